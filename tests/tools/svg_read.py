"""Reading back the SVG figures of tools/svg_plot.c: each panel's pixel box and data
limits (its data-* attributes) turn the drawn points back into data values."""
import math
import xml.etree.ElementTree as ET

NS = {"svg": "http://www.w3.org/2000/svg"}


class Axes:
    def __init__(self, g):
        self.g = g
        self.xlim = [float(v) for v in g.get("data-xlim").split()]
        self.ylim = [float(v) for v in g.get("data-ylim").split()]
        self.box = [float(v) for v in g.get("data-box").split()]
        self.ylog = g.get("data-ylog") == "1"
        self.title = "".join(t.text or "" for t in g.findall("svg:text[@class='title']", NS))

    def data(self, px, py):
        """Pixel (px, py) as data (x, y)."""
        bx, by, bw, bh = self.box
        x = self.xlim[0] + (px - bx) / bw * (self.xlim[1] - self.xlim[0])
        lo, hi = self.ylim
        if self.ylog:
            lo, hi = math.log10(lo), math.log10(hi)
        y = lo + (by + bh - py) / bh * (hi - lo)
        return x, (10 ** y if self.ylog else y)

    def series(self, label):
        """{"kind": "line"|"scatter", "parts": [[(x, y), ...], ...]} of the series `label`."""
        for s in self.g.iter("{%s}g" % NS["svg"]):
            if s.get("class") == "series" and s.get("data-label") == label:
                parts = []
                for p in s.findall("svg:polyline", NS):
                    pts = [tuple(map(float, xy.split(","))) for xy in p.get("points").split()]
                    parts.append([self.data(*xy) for xy in pts])
                circles = [self.data(float(c.get("cx")), float(c.get("cy")))
                           for c in s.findall("svg:circle", NS)]
                if circles:
                    parts.append(circles)
                return {"kind": s.get("data-kind"), "parts": parts}
        raise KeyError(label)

    def legend(self):
        return [t.text for g in self.g.findall("svg:g[@class='legend']", NS)
                for t in g.findall("svg:text", NS)]

    def markers(self):
        return [float(m.get("data-x")) for m in self.g.iter("{%s}g" % NS["svg"])
                if m.get("class") == "marker"]

    def yticks(self):
        return [t.text for t in self.g.iter("{%s}text" % NS["svg"]) if t.get("class") == "ytick"]

    def text(self, cls):
        return [t.text for t in self.g.iter("{%s}text" % NS["svg"]) if t.get("class") == cls]


def read(path):
    """(root element, [Axes] in document order); raises if the file is not XML."""
    root = ET.parse(path).getroot()
    assert root.tag == "{%s}svg" % NS["svg"], root.tag
    return root, [Axes(g) for g in root.iter("{%s}g" % NS["svg"]) if g.get("class") == "axes"]
