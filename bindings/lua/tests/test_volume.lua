-- Tests of NIfTI volumes from Lua. The NIfTI-1 file is written here byte by byte from the
-- NIfTI-1 specification (string.pack), so every expected value (shape, the sform affine,
-- the scaled voxel values, the mask) comes from what this script wrote.
-- Environment as test_btfm.lua: LUA_CPATH, BTFM_SOURCE_DIR, BTFM_LUA_TEST_TMP.

local btfm = require "btfm"
local tmp_dir = os.getenv("BTFM_LUA_TEST_TMP") or "/tmp"
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local H = require "harness"
local test, close_to, fails = H.test, H.close_to, H.fails

-- Equal lists of numbers (1 == 1.0).
local function eq(actual, expected, what)
  if type(expected) ~= "table" then return H.same(actual, expected, what) end
  H.same(type(actual), "table", what)
  H.same(#actual, #expected, (what or "list") .. " length")
  for i = 1, #expected do H.same(actual[i], expected[i], (what or "list") .. "[" .. i .. "]") end
end

local NX, NY, NZ, NT = 3, 4, 2, 5
local SLOPE, INTER = 0.5, 10.0
local SROW = {{2, 0, 0, -3}, {0, 2.5, 0, 7}, {0, 0, 3, 1}}

-- stored value of voxel (x, y, z) at volume t
local function stored(x, y, z, t) return (x + 10 * y + 100 * z) * (t + 1) - 50 end

local function write_nifti(path)
  local h = {string.pack("<i4", 348), string.rep("\0", 36)}           -- sizeof_hdr .. dim_info
  h[#h + 1] = string.pack("<i2i2i2i2i2i2i2i2", 4, NX, NY, NZ, NT, 1, 1, 1) -- dim at 40
  h[#h + 1] = string.pack("<fffi2i2i2i2", 0, 0, 0, 0, 4, 16, 0)      -- intent, datatype int16, bitpix
  h[#h + 1] = string.pack("<ffffffff", 1, 2, 2.5, 3, 1.5, 1, 1, 1)   -- pixdim at 76
  h[#h + 1] = string.pack("<fffi2BB", 352, SLOPE, INTER, 0, 0, 2 | 8) -- vox_offset, scl, units mm+s
  h[#h + 1] = string.rep("\0", 252 - 124)                             -- cal_max .. aux_file
  h[#h + 1] = string.pack("<i2i2", 0, 1)                              -- qform_code 0, sform_code 1
  h[#h + 1] = string.rep("\0", 24)                                    -- quatern, qoffset
  for r = 1, 3 do h[#h + 1] = string.pack("<ffff", table.unpack(SROW[r])) end
  h[#h + 1] = string.rep("\0", 16) .. "n+1\0" .. string.rep("\0", 4)  -- intent_name, magic, extension
  local blob = table.concat(h)
  assert(#blob == 352, #blob)
  local data = {}
  for t = 0, NT - 1 do
    for z = 0, NZ - 1 do for y = 0, NY - 1 do for x = 0, NX - 1 do
      data[#data + 1] = string.pack("<i2", stored(x, y, z, t))
    end end end
  end
  local f = assert(io.open(path, "wb"))
  f:write(blob, table.concat(data))
  f:close()
end

local path = tmp_dir .. "/lua_volume.nii"
write_nifti(path)

test("shape, affine, zooms and scaled values", function()
  local ds = assert(btfm.open(path))
  eq(ds:format(), "nifti")
  eq(ds:volume_shape(), {NX, NY, NZ, NT})
  local a = ds:affine()
  for r = 1, 3 do for c = 1, 4 do close_to(a[4 * (r - 1) + c], SROW[r][c], 1e-6) end end
  local z = ds:zooms()
  for i, want in ipairs({2, 2.5, 3, 1.5}) do close_to(z[i], want, 1e-7) end
  close_to(ds:sfreq(), 1 / 1.5, 1e-12)
  eq(ds:mask_kind(), "all")
  local values, shape = ds:data()
  eq(shape, {NT, NX * NY * NZ})
  for t = 0, NT - 1 do
    for v = 0, NX * NY * NZ - 1 do
      local x, y, z = v % NX, (v // NX) % NY, v // (NX * NY)
      close_to(values[t * NX * NY * NZ + v + 1], SLOPE * stored(x, y, z, t) + INTER, 1e-4)
    end
  end
  ds:close()
end)

test("threshold mask and unmasked writing", function()
  local ds = assert(btfm.open(path, {mask = {"threshold", 100}}))
  eq(ds:mask_kind(), "threshold")
  -- mean over time of SLOPE * stored + INTER, kept when above 100
  local expected = {}
  for v = 0, NX * NY * NZ - 1 do
    local x, y, z = v % NX, (v // NX) % NY, v // (NX * NY)
    local sum = 0
    for t = 0, NT - 1 do sum = sum + SLOPE * stored(x, y, z, t) + INTER end
    if sum / NT > 100 then expected[#expected + 1] = v end
  end
  eq(ds:channel_voxels(), expected)
  local values = ds:data()
  local copy = assert(btfm.from_array(values, NT, #expected, ds:sfreq(), ds))
  local out = tmp_dir .. "/lua_volume_out.nii.gz"
  assert(copy:save(out))
  local back = assert(btfm.open(out))
  eq(back:volume_shape(), {NX, NY, NZ, NT})
  local all = back:data()
  local kept = {}
  for _, v in ipairs(expected) do kept[v] = true end
  for v = 0, NX * NY * NZ - 1 do
    if not kept[v] then H.same(all[v + 1], 0.0) end
  end
  close_to(all[expected[1] + 1], values[1], 1e-6)
  back:close(); copy:close(); ds:close()
end)

test("voxel order: F (the file's) and C (nibabel's get_fdata()[mask])", function()
  local ds = assert(btfm.open(path, {mask = {"threshold", 100}}))
  eq(ds:voxel_order(), "F")
  assert(ds:set_voxel_order("C"))
  eq(ds:voxel_order(), "C")
  -- the kept voxels, visited as get_fdata()[mask] does: x slowest, z fastest
  local expected = {}
  for x = 0, NX - 1 do for y = 0, NY - 1 do for z = 0, NZ - 1 do
    local sum = 0
    for t = 0, NT - 1 do sum = sum + SLOPE * stored(x, y, z, t) + INTER end
    if sum / NT > 100 then expected[#expected + 1] = x + NX * (y + NY * z) end
  end end end
  eq(ds:channel_voxels(), expected)
  local values = ds:data()
  local v = expected[2]
  close_to(values[2], SLOPE * stored(v % NX, (v // NX) % NY, v // (NX * NY), 0) + INTER, 1e-4)
  local again = assert(btfm.open(path, {voxel_order = "C", mask = {"threshold", 100}}))
  eq(again:channel_voxels(), expected)
  again:close()
  local ok, msg = pcall(ds.set_voxel_order, ds, "x")
  H.check(not ok and msg:find("invalid option 'x'", 1, true), msg)
  ds:close()
end)

test("errors", function()
  local ds = assert(btfm.open(path))
  local msg = fails("BTFM_E_NOTFOUND", "set_mask", ds:set_mask(tmp_dir .. "/no_such_mask.nii"))
  H.check(msg:find("no_such_mask", 1, true), msg)
  eq(ds:n_channels(), NX * NY * NZ)
  local mem = assert(btfm.from_array({1, 2, 3, 4}, 2, 2, 10))
  fails("BTFM_E_UNSUPPORTED", "volume_shape", mem:volume_shape())
  ds:close()
end)

H.finish()
