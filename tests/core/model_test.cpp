#include "slicenav/model.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <random>
#include <thread>

#include "model_fixtures.hpp"
#include "slice_network.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/model_file.hpp"
#include "slicenav/orientation.hpp"
#include "test_data.hpp"
#include "test_support.hpp"

namespace slicenav {
namespace {

using test::status_of;

SliceStack random_stack(std::size_t slices, std::size_t size, double top_z, double step, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  SliceStack s;
  s.image_size = size;
  s.pixels.resize(slices * size * size);
  for (float& p : s.pixels) p = u(rng);
  for (std::size_t k = 0; k < slices; ++k) {
    s.canonical_slice.push_back(k);
    s.world_z_mm.push_back(top_z - step * static_cast<double>(k));
  }
  return s;
}

std::vector<char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class ModelFiles : public test::TempDirTest {};

TEST(Model, InsertGivesOneNormalisedRowPerQuerySliceOverTheFramedTarget) {
  const Model model(test::tiny_model_config(), 3);
  const auto d = model.insert(random_stack(7, 32, 0, 5, 1), random_stack(11, 32, 10, 2.5, 2));
  ASSERT_EQ(d.query_slices, 7u);
  ASSERT_EQ(d.target_slots, 13u);
  ASSERT_EQ(d.probabilities.size(), 7u * 13u);
  for (std::size_t m = 0; m < 7; ++m) {
    const double sum = std::accumulate(d.row(m), d.row(m) + 13, 0.0);
    EXPECT_NEAR(sum, 1.0, 1e-5);
    for (std::size_t s = 0; s < 13; ++s) EXPECT_GT(d.row(m)[s], 0.0f);
  }
}

TEST(Model, InsertRejectsWrongSizesAndTooManySlices) {
  const Model model(test::tiny_model_config(), 3);
  std::string message;
  EXPECT_EQ(status_of([&] { model.insert(random_stack(3, 16, 0, 1, 1), random_stack(3, 32, 0, 1, 2)); }, &message),
            Status::invalid_argument);
  EXPECT_NE(message.find("query"), std::string::npos);
  EXPECT_EQ(status_of([&] { model.insert(random_stack(3, 32, 0, 1, 1), random_stack(25, 32, 0, 1, 2)); }, &message),
            Status::invalid_argument);
  EXPECT_NE(message.find("at most 24"), std::string::npos);
  SliceStack empty;
  empty.image_size = 32;
  EXPECT_EQ(status_of([&] { model.score(empty); }), Status::invalid_argument);
}

TEST(Model, ScoreCoversLongStacksInChunksWithTheSameValues) {
  const Model model(test::tiny_model_config(), 3);
  const SliceStack long_stack = random_stack(50, 32, 0, 1, 4);  // > max_slices (24)
  const auto all = model.score(long_stack);
  ASSERT_EQ(all.size(), 50u);
  SliceStack tail = random_stack(10, 32, 0, 1, 0);
  tail.pixels.assign(long_stack.pixels.end() - 10 * 32 * 32, long_stack.pixels.end());
  const auto part = model.score(tail);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_NEAR(part[i], all[40 + i], 1e-4);
}

TEST(Model, PaddingDoesNotChangeAShorterSequencesLogits) {
  Model model(test::tiny_model_config(), 5);
  auto& net = *model.impl().network;
  torch::NoGradGuard no_grad;
  const auto z_short = std::vector<double>{0, -2, -4};
  const auto z_long = std::vector<double>{0, -2, -4, -6, -8, -10};
  const auto q_short = torch::randn({3, 16}), q_long = torch::randn({6, 16});
  const auto t_short = torch::randn({5, 16}), t_long = torch::randn({8, 16});
  const auto enc = PositionalEncoding::absolute;
  const auto alone =
      net.insertion_logits(detail::pad_sequences({q_short}, {detail::sequence_positions(z_short, enc, false)}),
                           detail::pad_sequences({t_short}, {detail::sequence_positions(z_short, enc, true)}));
  const auto batched =
      net.insertion_logits(detail::pad_sequences({q_short, q_long}, {detail::sequence_positions(z_short, enc, false),
                                                                     detail::sequence_positions(z_long, enc, false)}),
                           detail::pad_sequences({t_short, t_long}, {detail::sequence_positions(z_short, enc, true),
                                                                     detail::sequence_positions(z_long, enc, true)}));
  ASSERT_EQ(batched.sizes(), (std::vector<std::int64_t>{2, 6, 8}));
  EXPECT_TRUE(torch::allclose(batched[0].narrow(0, 0, 3).narrow(1, 0, 5), alone[0], 1e-5, 1e-5));
  // Padded target slots can never be chosen.
  EXPECT_TRUE(torch::all(torch::isinf(batched[0].narrow(1, 5, 3))).item<bool>());
}

TEST(Model, OneTargetSharedByAllQueriesGivesTheLogitsOfTheTargetRepeated) {
  Model model(test::tiny_model_config(), 6);
  auto& net = *model.impl().network;
  torch::NoGradGuard no_grad;
  const auto enc = PositionalEncoding::absolute;
  const auto z3 = std::vector<double>{0, -2, -4}, z5 = std::vector<double>{0, -2, -4, -6, -8};
  const auto q =
      detail::pad_sequences({torch::randn({3, 16}), torch::randn({5, 16})},
                            {detail::sequence_positions(z3, enc, false), detail::sequence_positions(z5, enc, false)});
  const auto t = torch::randn({6, 16});
  const auto t_pos = detail::sequence_positions({0, -1, -2, -3}, enc, true);
  const auto shared = net.insertion_logits(q, detail::pad_sequences({t}, {t_pos}));
  const auto repeated = net.insertion_logits(q, detail::pad_sequences({t, t}, {t_pos, t_pos}));
  ASSERT_EQ(shared.sizes(), repeated.sizes());
  EXPECT_TRUE(torch::allclose(shared, repeated, 1e-5, 1e-5));
}

TEST(Model, PositionsAreSliceIndicesOrMillimetresAndFramedWithOneStepEitherSide) {
  const std::vector<double> z{10, 7.5, 5, 2.5};
  EXPECT_EQ(detail::sequence_positions(z, PositionalEncoding::absolute, false), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(detail::sequence_positions(z, PositionalEncoding::absolute, true), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(detail::sequence_positions(z, PositionalEncoding::spacing_scaled, true),
            (std::vector<float>{-1.5f, 1, 3.5f, 6, 8.5f, 11}));
}

TEST(Model, SinusoidalEncodingInterleavesSinAndCos) {
  const auto e = detail::sinusoidal_encoding(torch::tensor({{0.0f, 1.0f}}), 4);
  ASSERT_EQ(e.sizes(), (std::vector<std::int64_t>{1, 2, 4}));
  EXPECT_FLOAT_EQ(e[0][0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(e[0][0][1].item<float>(), 1.0f);
  EXPECT_NEAR(e[0][1][0].item<float>(), std::sin(1.0), 1e-6);
  EXPECT_NEAR(e[0][1][3].item<float>(), std::cos(0.01), 1e-6);  // 1 / 10000^(2/4)
}

// One loaded model shared by 8 threads, 10,000 calls each (embed, score and insert in turn on 8 different inputs):
// every answer must be bit-identical to the serial answer for the same input. Also run under the sanitizers
// (docs/reliability.md) with fewer calls per thread ($SLICENAV_THREAD_CALLS, 1000 there), as they are slower.
TEST(Model, EightThreadsSharingOneModelGiveTheSerialAnswers) {
  set_inference_threads(1);
  const Model model(test::tiny_model_config(), 5);
  constexpr int kInputs = 8, kThreads = 8;
  const char* calls_text = std::getenv("SLICENAV_THREAD_CALLS");
  const int kCalls = calls_text != nullptr ? std::atoi(calls_text) : 10000;
  ASSERT_GT(kCalls, 0);
  std::vector<SliceStack> queries, targets;
  for (int i = 0; i < kInputs; ++i) {
    queries.push_back(random_stack(2 + i % 3, 32, 0, 5, 100 + i));
    targets.push_back(random_stack(3 + i % 2, 32, 10, 5, 200 + i));
  }
  // The answer of call c (its kind and input follow from c) as one vector of floats.
  const auto answer = [&](int c) {
    const int input = c % kInputs;
    switch ((c / kInputs) % 3) {
      case 0: return model.embed(queries[input]).values;
      case 1: {
        const auto scores = model.score(targets[input]);
        return std::vector<float>(scores.begin(), scores.end());
      }
      default: return model.insert(queries[input], targets[input]).probabilities;
    }
  };
  std::vector<std::vector<float>> serial;
  for (int c = 0; c < 3 * kInputs; ++c) serial.push_back(answer(c));
  std::atomic<int> mismatches{0}, calls{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < kCalls; ++n) {
        const int c = (t * 7 + n) % (3 * kInputs);
        if (answer(c) != serial[c]) ++mismatches;
        ++calls;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(calls.load(), kThreads * kCalls);
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Model, SameSeedGivesIdenticalWeightsAndOutputs) {
  const Model a(test::tiny_model_config(), 42), b(test::tiny_model_config(), 42), c(test::tiny_model_config(), 43);
  const auto q = random_stack(5, 32, 0, 3, 1), t = random_stack(9, 32, 0, 3, 2);
  EXPECT_EQ(a.insert(q, t).probabilities, b.insert(q, t).probabilities);
  EXPECT_NE(a.insert(q, t).probabilities, c.insert(q, t).probabilities);
}

TEST(Model, ConfigValidationNamesTheBadField) {
  ModelConfig c = test::tiny_model_config();
  c.heads = 3;
  std::string message;
  EXPECT_EQ(status_of([&] { Model m(c); }, &message), Status::invalid_argument);
  EXPECT_NE(message.find("heads"), std::string::npos);
  c = test::tiny_model_config();
  c.encoder_widths = {8};
  EXPECT_EQ(status_of([&] { c.validate(); }), Status::invalid_argument);
}

TEST(Model, DecodeFindsTheArgmaxNeighbourhoodAndTheArtificialSlots) {
  SliceStack target = random_stack(4, 32, 30, 10, 1);  // z 30, 20, 10, 0
  InsertionDistribution d;
  d.query_slices = 3;
  d.target_slots = 6;
  d.probabilities = {0.9f, 0.1f, 0,    0,    0,    0,      // above
                     0,    0,    0.5f, 0.5f, 0,    0,      // between target slices 1 and 2
                     0,    0,    0,    0.2f, 0.1f, 0.7f};  // below
  const auto r = decode_insertion(d, target.world_z_mm);
  EXPECT_EQ(r[0].where, InsertedSlice::Where::above);
  EXPECT_DOUBLE_EQ(r[0].world_z_mm, 40.0);
  EXPECT_FLOAT_EQ(r[0].peak, 0.9f);
  EXPECT_NEAR(r[0].entropy, -(0.9 * std::log(0.9) + 0.1 * std::log(0.1)), 1e-6);
  EXPECT_EQ(r[1].where, InsertedSlice::Where::inside);
  EXPECT_DOUBLE_EQ(r[1].position, 1.5);
  EXPECT_DOUBLE_EQ(r[1].world_z_mm, 15.0);
  EXPECT_EQ(r[2].where, InsertedSlice::Where::below);
  EXPECT_DOUBLE_EQ(r[2].world_z_mm, -10.0);
  d.target_slots = 5;
  EXPECT_EQ(status_of([&] { decode_insertion(d, target.world_z_mm); }), Status::invalid_argument);
}

TEST_F(ModelFiles, SaveLoadRoundTripIsBitExact) {
  Model model(test::tiny_model_config(), 9);
  model.set_metadata_section("metrics", R"({"intra_mm": 3.5})");
  model.save(path("a.snm"));
  const Model loaded = Model::load(path("a.snm"));
  loaded.save(path("b.snm"));
  EXPECT_EQ(file_bytes(path("a.snm")), file_bytes(path("b.snm")));
  EXPECT_EQ(loaded.metadata_section("metrics"), R"({"intra_mm":3.5})");
  EXPECT_EQ(loaded.config().d_model, 16);
  EXPECT_EQ(loaded.parameter_count(), model.parameter_count());
  const auto q = random_stack(5, 32, 0, 3, 1), t = random_stack(9, 32, 0, 3, 2);
  EXPECT_EQ(loaded.insert(q, t).probabilities, model.insert(q, t).probabilities);
  EXPECT_EQ(loaded.score(q), model.score(q));
}

TEST_F(ModelFiles, TemplatesAndAtlasTravelInTheFile) {
  Model model(test::tiny_model_config(), 9);
  const auto stack = random_stack(7, 32, 20, 5, 4);
  Template t;
  t.name = "case_a";
  t.slices = model.embed(stack);
  t.landmarks = {{"lung_apex", 15.0}, {"carina", -5.0}};
  Atlas atlas;
  atlas.position_mm = {{"lung_apex", 0.0}, {"carina", -20.0}};
  model.set_templates({t}, atlas);
  model.save(path("t.snm"));
  const Model loaded = Model::load(path("t.snm"));
  ASSERT_EQ(loaded.templates().size(), 1u);
  EXPECT_EQ(loaded.templates()[0].name, "case_a");
  EXPECT_EQ(loaded.templates()[0].slices.values, t.slices.values);
  EXPECT_EQ(loaded.templates()[0].slices.world_z_mm, t.slices.world_z_mm);
  ASSERT_EQ(loaded.templates()[0].landmarks.size(), 2u);
  EXPECT_EQ(loaded.templates()[0].landmarks[1].name, "carina");
  EXPECT_EQ(loaded.atlas().position_mm, atlas.position_mm);
  loaded.save(path("t2.snm"));
  EXPECT_EQ(file_bytes(path("t.snm")), file_bytes(path("t2.snm")));

  // Embeddings of another width, and a file whose template tensor lost its description, are rejected.
  Template wrong = t;
  wrong.slices.dim = 8;
  EXPECT_EQ(status_of([&] { model.set_templates({wrong}, atlas); }), Status::invalid_argument);
  EXPECT_EQ(status_of([&] { model.set_metadata_section("templates", "[]"); }), Status::invalid_argument);
  ModelFile file = load_model_file(path("t.snm"));
  file.tensors.back().name = "template/7";
  save_model_file(file, path("bad_template.snm"));
  std::string message;
  EXPECT_EQ(status_of([&] { Model::load(path("bad_template.snm")); }, &message), Status::model_format);
  EXPECT_NE(message.find("template"), std::string::npos) << message;
}

TEST(Model, EmbeddingsGiveTheSameAnswersAsStacks) {
  const Model model(test::tiny_model_config(), 5);
  const auto q = random_stack(6, 32, 0, 3, 1), t = random_stack(9, 32, 0, 3, 2);
  const auto from_stacks = model.insert(q, t);
  const auto qe = model.embed(q), te = model.embed(t);
  EXPECT_EQ(model.insert(qe, te).probabilities, from_stacks.probabilities);
  // Batched queries of different lengths: each result equals its own single-query insertion.
  const auto qe2 = qe.select({0, 2, 4});
  const auto batched = model.insert(std::vector<const SliceEmbeddings*>{&qe, &qe2}, te);
  ASSERT_EQ(batched.size(), 2u);
  for (std::size_t i = 0; i < batched[0].probabilities.size(); ++i) {
    EXPECT_NEAR(batched[0].probabilities[i], from_stacks.probabilities[i], 1e-6);
  }
  const auto single = model.insert(qe2, te);
  for (std::size_t i = 0; i < single.probabilities.size(); ++i) {
    EXPECT_NEAR(batched[1].probabilities[i], single.probabilities[i], 1e-6);
  }
  EXPECT_EQ(model.score(qe), model.score(q));
  EXPECT_EQ(status_of([&] { qe.select({6}); }), Status::invalid_argument);
}

TEST_F(ModelFiles, MetadataSectionsForTheArchitectureAreReserved) {
  Model model(test::tiny_model_config(), 9);
  EXPECT_EQ(status_of([&] { model.set_metadata_section("architecture", "{}"); }), Status::invalid_argument);
  EXPECT_EQ(status_of([&] { model.set_metadata_section("metrics", "{not json"); }), Status::invalid_argument);
  EXPECT_EQ(model.metadata_section("templates"), "null");
}

TEST_F(ModelFiles, DamagedTruncatedAndMismatchedFilesAreClearErrors) {
  Model(test::tiny_model_config(), 9).save(path("good.snm"));
  const auto bytes = file_bytes(path("good.snm"));
  auto write = [&](const std::string& name, const std::vector<char>& b) {
    std::ofstream(path(name), std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
    return path(name);
  };
  std::string message;
  for (std::size_t cut : {std::size_t{4}, std::size_t{30}, bytes.size() / 2, bytes.size() - 1}) {
    const auto p = write("cut.snm", std::vector<char>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)));
    EXPECT_EQ(status_of([&] { Model::load(p); }, &message), Status::model_format) << cut;
  }
  auto flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  EXPECT_EQ(status_of([&] { Model::load(write("flip.snm", flipped)); }), Status::model_format);
  auto newer = bytes;
  newer[8] = static_cast<char>(kModelFormatVersion + 1);
  EXPECT_EQ(status_of([&] { Model::load(write("newer.snm", newer)); }), Status::version_mismatch);
  EXPECT_EQ(status_of([&] { Model::load(path("missing.snm")); }), Status::not_found);

  // A valid file whose weights do not fit the architecture its metadata describes.
  ModelFile file = load_model_file(path("good.snm"));
  file.tensors.back().shape = {file.tensors.back().shape[0] * 2};
  file.tensors.back().values.resize(static_cast<std::size_t>(file.tensors.back().shape[0]));
  save_model_file(file, path("shape.snm"));
  EXPECT_EQ(status_of([&] { Model::load(path("shape.snm")); }, &message), Status::model_format);
  EXPECT_NE(message.find("does not match"), std::string::npos);
  file = load_model_file(path("good.snm"));
  file.metadata_json = R"({"architecture": {"d_model": 16}})";
  save_model_file(file, path("meta.snm"));
  EXPECT_EQ(status_of([&] { Model::load(path("meta.snm")); }, &message), Status::model_format);
  EXPECT_NE(message.find("architecture"), std::string::npos);
}

TEST_F(ModelFiles, DefaultModelHonoursTheEnvironmentAndListsWhereItLooked) {
  Model(test::tiny_model_config(), 9).save(path("env.snm"));
  setenv("SLICENAV_MODEL", path("env.snm").c_str(), 1);
  EXPECT_EQ(default_model_path(), path("env.snm"));
  setenv("SLICENAV_MODEL", path("absent.snm").c_str(), 1);
  std::string message;
  EXPECT_EQ(status_of([] { default_model_path(); }, &message), Status::not_found);
  EXPECT_NE(message.find("absent.snm"), std::string::npos);
  unsetenv("SLICENAV_MODEL");
  // Without the variable the bundled model of the source tree is found (or every place tried is named).
  if (const auto s = status_of([] { default_model_path(); }, &message); s == Status::ok) {
    EXPECT_EQ(Model::load(default_model_path()).config().preprocess.image_size, 96u);
  } else {
    EXPECT_EQ(s, Status::not_found);
    EXPECT_NE(message.find("models/default.snm"), std::string::npos);
  }
}

// The bundled model on a validation-split patient (never seen in training): the upper half of the
// scan inserted into the whole scan lands near the true slices, and slices of the whole scan below the
// half are sent to the end slot more often than not.
TEST(BundledModel, InsertsAHeldOutScanIntoItselfNearTheTrueSlices) {
  SLICENAV_REQUIRE_DATA(ct_path, "ct/lung1_001/ct.nii.gz");
  unsetenv("SLICENAV_MODEL");
  std::string path;
  if (status_of([&] { path = default_model_path(); }) != Status::ok) GTEST_SKIP() << "no bundled model";
  const Model model = Model::load(path);
  const auto canonical = canonicalize(read_volume(ct_path));
  const auto& pre = model.config().preprocess;
  const std::size_t n = canonical.mapping.slice_count();
  const SliceStack whole = preprocess(canonical, uniform_slices(n, pre.max_slices), pre);
  const SliceStack upper = preprocess(canonical, uniform_slices(n / 2, pre.max_slices), pre);
  const auto into_whole = decode_insertion(model.insert(upper, whole), whole.world_z_mm);
  double error = 0;
  for (std::size_t m = 0; m < into_whole.size(); ++m) error += std::abs(into_whole[m].world_z_mm - upper.world_z_mm[m]);
  EXPECT_LT(error / static_cast<double>(into_whole.size()), 25.0);
  const auto into_upper = decode_insertion(model.insert(whole, upper), upper.world_z_mm);
  std::size_t below = 0, sent_below = 0;
  for (std::size_t m = 0; m < into_upper.size(); ++m) {
    if (whole.world_z_mm[m] < upper.world_z_mm.back() - 10.0) {
      ++below;
      sent_below += into_upper[m].where == InsertedSlice::Where::below;
    }
  }
  ASSERT_GT(below, 20u);
  EXPECT_GT(static_cast<double>(sent_below) / static_cast<double>(below), 0.5);
}

}  // namespace
}  // namespace slicenav
