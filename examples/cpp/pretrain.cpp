// Masked-patch pretraining from C++ with LibTorch on a simulated EEG corpus: the C++
// twin of examples/python/pretrain_masked.py. Batches come from btfm_loader_next and
// become tensors over the loader's buffers (torch::from_blob: no copy).
// Build: c++ -std=c++17 pretrain.cpp $(pkg-config --cflags --libs btfm) -ltorch -ltorch_cpu -lc10
//        -I/usr/include/torch/csrc/api/include
// Usage: OPENBLAS_NUM_THREADS=1 pretrain [--steps N] (one OpenBLAS thread: LibTorch's
// products here are small and OpenBLAS's spinning helpers would only compete with the
// loader's threads); exits 1 unless the held-out loss ends clearly below the predict-zero
// baseline.
#include <btfm/btfm.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr int64_t kPatch = 16;         // samples a token: 0.16 s at 100 Hz
constexpr double kWindowS = 1.6;       // 10 patches a window
constexpr double kSfreq = 100;

void check(btfm_status st, const char *what)
{
    if (st != BTFM_OK) throw std::runtime_error(std::string(what) + ": " + btfm_last_error());
}

// Six simulated annotators (about 1.5 minutes of 16-channel EEG each) into a corpus.
void make_corpus(const std::string &session, const std::string &corpus)
{
    btfm_sim *sim = nullptr;
    check(btfm_sim_new(&sim, BTFM_OBJECT_SIM_RATING_SESSION), "btfm_sim_new");
    btfm_sim_set_param(sim, BTFM_SIM_RATING_N_ANNOTATORS, 6);
    btfm_sim_set_param(sim, BTFM_SIM_RATING_N_ITEMS, 10);
    btfm_sim_set_param(sim, BTFM_SIM_RATING_N_CHANNELS, 16);
    btfm_sim_set_param(sim, BTFM_SIM_RATING_EOG, 0);
    btfm_sim_set_param(sim, BTFM_SIM_RATING_SEED, 3);
    btfm_status st = btfm_sim_rating_session(sim, session.c_str());
    btfm_sim_free(sim);
    check(st, "btfm_sim_rating_session");
    btfm_corpus_builder *b = nullptr;
    check(btfm_corpus_builder_new(&b), "btfm_corpus_builder_new");
    const char key[] = "example pseudonym key";
    btfm_corpus_builder_set_key(b, key, sizeof key - 1);
    btfm_corpus_builder_set_param(b, BTFM_CORPUS_SFREQ, kSfreq);
    btfm_corpus_builder_set_param(b, BTFM_CORPUS_L_FREQ, 1.0);
    btfm_corpus_builder_set_param(b, BTFM_CORPUS_H_FREQ, 40.0);
    btfm_corpus_builder_set_param(b, BTFM_CORPUS_CLIP, 10);
    int64_t built = 0, failed = 0;
    st = btfm_corpus_build(b, session.c_str(), corpus.c_str(), &built, &failed);
    btfm_corpus_builder_free(b);
    check(st, "btfm_corpus_build");
    std::printf("corpus: %lld recordings built, %lld failed\n", (long long)built,
                (long long)failed);
}

btfm_loader *open_loader(const std::string &corpus, int split, int batch_size, bool shuffle)
{
    btfm_loader *l = nullptr;
    check(btfm_loader_new(&l, corpus.c_str()), "btfm_loader_new");
    const std::pair<btfm_loader_param, double> params[] = {
        {BTFM_LOADER_WINDOW_S, kWindowS}, {BTFM_LOADER_STRIDE_S, kWindowS / 2},
        {BTFM_LOADER_PATCH_LEN, kPatch}, {BTFM_LOADER_MASK_RATIO, 0.4},
        {BTFM_LOADER_SPLIT_BY, 0}, {BTFM_LOADER_VAL_FRACTION, 2.0 / 6},
        {BTFM_LOADER_SEED, 0}, {BTFM_LOADER_SPLIT, split},
        {BTFM_LOADER_BATCH_SIZE, batch_size}, {BTFM_LOADER_SHUFFLE, shuffle ? 1.0 : 0.0}};
    for (const auto &p : params) check(btfm_loader_set_param(l, p.first, p.second), "set_param");
    return l;
}

// Masked tokens reconstructed from what is visible around them: each row's channels
// placed by channel id, the visible samples and a visibility map through temporal
// convolutions over all channels (two patches each side), as in pretrain_masked.py.
struct MaskedPatchModelImpl : torch::nn::Module {
    int64_t n_ids;
    torch::nn::Sequential net{nullptr};

    explicit MaskedPatchModelImpl(int64_t n_channel_ids, int64_t width = 48) : n_ids(n_channel_ids)
    {
        using torch::nn::Conv1d;
        using torch::nn::Conv1dOptions;
        net = register_module(
            "net", torch::nn::Sequential(
                       Conv1d(Conv1dOptions(2 * n_ids, width, 4 * kPatch + 1).padding(2 * kPatch)),
                       torch::nn::GELU(),
                       Conv1d(Conv1dOptions(width, width, kPatch / 2 + 1).padding(kPatch / 4)),
                       torch::nn::GELU(), Conv1d(Conv1dOptions(width, n_ids, 1))));
    }

    // x: rows x C x P x kPatch; mask: rows x C x P (bool); ids: rows x C (-1 padding).
    torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &mask,
                          const torch::Tensor &ids)
    {
        const int64_t rows = x.size(0), C = x.size(1), P = x.size(2), T = P * kPatch;
        auto valid = (ids >= 0).unsqueeze(2).to(torch::kFloat32);
        auto index = ids.clamp_min(0).unsqueeze(2).expand({rows, C, T});
        auto visible = (~mask).to(torch::kFloat32).repeat_interleave(kPatch, 2) * valid;
        auto grid = torch::zeros({rows, 2 * n_ids, T});
        grid.narrow(1, 0, n_ids).scatter_add_(1, index, x.reshape({rows, C, T}) * visible);
        grid.narrow(1, n_ids, n_ids).scatter_add_(1, index, visible);
        return net->forward(grid).gather(1, index).reshape({rows, C, P, kPatch});
    }
};
TORCH_MODULE(MaskedPatchModel);

struct Losses {
    torch::Tensor model, zero;
};

// Masked-token MSE of the model and of predicting zero, on a batch's buffers.
Losses masked_losses(MaskedPatchModel &model, const btfm_loader *l, const btfm_batch *b)
{
    const int64_t rows = btfm_batch_size(b), C = btfm_loader_n_channels(l);
    const int64_t P = btfm_loader_window_len(const_cast<btfm_loader *>(l)) / kPatch;
    auto x = torch::from_blob(const_cast<float *>(btfm_batch_data(b)), {rows, C, P, kPatch});
    auto mask = torch::from_blob(const_cast<uint8_t *>(btfm_batch_mask(b)), {rows, C, P},
                                 torch::kUInt8).to(torch::kBool);
    auto ids = torch::from_blob(const_cast<int32_t *>(btfm_batch_channel_ids(b)), {rows, C},
                                torch::kInt32).to(torch::kLong);
    auto keep = mask & (ids >= 0).unsqueeze(2);
    auto target = x.index({keep});
    auto pred = model->forward(x, mask, ids).index({keep});
    return {(pred - target).pow(2).mean(), target.pow(2).mean()};
}

std::pair<double, double> evaluate(MaskedPatchModel &model, btfm_loader *val)
{
    torch::NoGradGuard no_grad;
    model->eval();
    double total = 0, zero = 0;
    int n = 0;
    const btfm_batch *b = nullptr;
    while (true) {
        check(btfm_loader_next(val, &b), "btfm_loader_next");
        if (!b) break;
        Losses loss = masked_losses(model, val, b);
        total += loss.model.item<double>();
        zero += loss.zero.item<double>();
        n++;
    }
    model->train();
    return {total / n, zero / n};
}

int run(const std::string &root, int steps)
{
    const std::string session = root + "/session", corpus = root + "/corpus";
    make_corpus(session, corpus);
    btfm_loader *train = open_loader(corpus, 0, 32, true);
    btfm_loader *val = open_loader(corpus, 1, 128, false);
    int64_t n_train = 0, n_val = 0;
    check(btfm_loader_count(train, 0, &n_train, nullptr), "count");
    check(btfm_loader_count(val, 1, &n_val, nullptr), "count");
    const int64_t P = btfm_loader_window_len(train) / kPatch;
    std::printf("windows: %lld train, %lld held out; %d channels x %lld patches a window\n",
                (long long)n_train, (long long)n_val, btfm_loader_n_channels(train),
                (long long)P);
    MaskedPatchModel model(btfm_loader_n_channel_names(train));
    torch::optim::AdamW optimizer(model->parameters(),
                                  torch::optim::AdamWOptions(5e-3).weight_decay(0.01));
    auto [first, baseline] = evaluate(model, val);
    std::printf("held-out masked MSE before training %.3f; baseline (predict zero) %.3f\n",
                first, baseline);
    int step = 0;
    while (step < steps) {
        const btfm_batch *b = nullptr;
        check(btfm_loader_next(train, &b), "btfm_loader_next");
        if (!b) continue;  // the end of an epoch: the loader moved to the next one
        Losses loss = masked_losses(model, train, b);
        optimizer.zero_grad();
        loss.model.backward();
        optimizer.step();
        if (++step % 50 == 0 || step == steps)
            std::printf("step %4d  train masked MSE %.3f\n", step, loss.model.item<double>());
    }
    auto [final_loss, base] = evaluate(model, val);
    std::printf("held-out masked MSE after %d steps %.3f; baseline (predict zero) %.3f; "
                "ratio %.2f\n", step, final_loss, base, final_loss / base);
    btfm_loader_free(train);
    btfm_loader_free(val);
    return final_loss < 0.8 * base ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv)
{
    int steps = 300;
    for (int i = 1; i + 1 < argc; i++)
        if (std::strcmp(argv[i], "--steps") == 0) steps = std::atoi(argv[++i]);
    torch::manual_seed(0);
    torch::set_num_threads(1);  // the loader's threads read ahead on the other cores
    const char *tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/btfm-pretrain-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    char *root = buf.data();
    if (!mkdtemp(root)) {
        std::perror("mkdtemp");
        return 1;
    }
    int status = 1;
    try {
        status = run(root, steps);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
    }
    std::filesystem::remove_all(root);
    return status;
}
