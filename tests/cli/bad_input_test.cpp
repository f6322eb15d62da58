// The bad-input matrix (docs/reliability.md): every kind of damaged file, impossible geometry, foreign model,
// bad record or dataset, bad option and unwritable output, run through the `slicenav` tool as a pipeline would.
// Each kind must end with its documented exit code and a message that names the problem, within a time limit
// (no hang), without a crash, and without leaving any file in the output folder.
// SLICENAV_MATRIX_TABLE=FILE writes the observed table (kind, exit code, the tool's error line) as Markdown.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "dicom_series.hpp"
#include "nifti_bytes.hpp"
#include "run_process.hpp"
#include "slicenav/io.hpp"
#include "slicenav/phantom.hpp"

namespace fs = std::filesystem;

namespace slicenav::test {
namespace {

// Every file under `dir`, as relative paths.
std::vector<std::string> files_under(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) names.push_back(fs::relative(entry.path(), dir).string());
  }
  return names;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

void cut_to(const fs::path& from, const fs::path& to, double fraction) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  fs::resize_file(to, static_cast<std::uintmax_t>(fs::file_size(from) * fraction));
}

// A hand-written MetaImage file (.mha, data LOCAL after the header).
std::string mha(const std::string& header_lines, const std::string& raw) {
  return "ObjectType = Image\n" + header_lines + "ElementDataFile = LOCAL\n" + raw;
}

// The shared good inputs, made once: a phantom torso CT, its liver crop and record, the bundled model, an nnU-Net
// dataset of two phantom cases.
class Inputs {
 public:
  static const Inputs& get() {
    static const Inputs inputs;
    return inputs;
  }
  fs::path dir, phantom, crop, record, model, dataset;

 private:
  Inputs() {
    dir = fs::path(SLICENAV_TEST_TMP) / "bad_input_matrix_inputs";
    fs::remove_all(dir);
    fs::create_directories(dir);
    PhantomOptions options;
    options.size = {48, 48, 40};
    options.spacing = {8.0, 8.0, 10.0};
    phantom = dir / "phantom.nii.gz";
    write_volume(make_phantom(options).volume, phantom.string());
    crop = dir / "crop.nii.gz";
    record = dir / "crop.json";
    model = SLICENAV_MODEL_FILE;
    const Outcome made = run_process(SLICENAV_CLI_PATH,
                                     {"crop", phantom.string(), "--region", "liver", "-o", crop.string(), "--record",
                                      record.string(), "--threads", "1"},
                                     dir);
    if (made.exit_code != 0) throw std::runtime_error("cannot crop the phantom: " + made.err);
    dataset = dir / "Dataset001_Phantom";
    fs::create_directories(dataset / "imagesTr");
    fs::create_directories(dataset / "labelsTr");
    for (const char* name : {"case_000", "case_001"}) {
      fs::copy_file(phantom, dataset / "imagesTr" / (std::string(name) + "_0000.nii.gz"));
      fs::copy_file(phantom, dataset / "labelsTr" / (std::string(name) + ".nii.gz"));
    }
    std::ofstream(dataset / "dataset.json")
        << R"({"channel_names": {"0": "CT"}, "labels": {"background": 0, "body": 1}, "numTraining": 2, "file_ending": ".nii.gz"})";
  }
};

// One kind of bad input: `setup` makes its files under `in` and returns the tool's arguments (outputs go under `out`).
struct Kind {
  std::string group;
  std::string kind;
  std::function<std::vector<std::string>(const fs::path& in, const fs::path& out)> setup;
  int exit_code;
  std::string message;  // must appear in stderr
  Limits limits{};
  bool answers = false;  // exit 0 with a warning: the output is written
};

std::vector<std::string> locate(const fs::path& image, const fs::path& out) {
  return {"locate", image.string(), "-o", (out / "landmarks.json").string(), "--threads", "1"};
}

// A copy of `record` with one JSON field's text replaced.
std::string edited_record(const std::string& from, const std::string& to) {
  std::string text = read_text(Inputs::get().record);
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("the crop record lacks '" + from + "'");
  return text.replace(at, from.size(), to);
}

std::string model_bytes() { return read_text(Inputs::get().model); }

std::vector<Kind> kinds() {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const std::string short_2x2x2(16, '\0');
  std::vector<Kind> k;
  const auto image_kind = [&](const std::string& kind, const std::string& file,
                              std::function<void(const fs::path&)> make, int code, const std::string& message) {
    k.push_back({"volume", kind,
                 [file, make](const fs::path& in, const fs::path& out) {
                   make(in / file);
                   return locate(in / file, out);
                 },
                 code, message});
  };
  const fs::path phantom = Inputs::get().phantom;
  // Broken or truncated files of every format.
  image_kind(
      "missing file", "nope.nii.gz", [](const fs::path&) {}, 2, "does not exist");
  image_kind(
      "unknown extension", "scan.img", [](const fs::path& p) { write_bytes(p, "x"); }, 4, "unknown extension");
  image_kind(
      "empty .nii", "empty.nii", [](const fs::path& p) { write_bytes(p, ""); }, 3, "not a readable NIfTI file");
  image_kind(
      "text named .nii.gz", "text.nii.gz", [](const fs::path& p) { write_bytes(p, "not an image\n"); }, 3,
      "not a readable NIfTI file");
  image_kind(
      "truncated .nii.gz", "cut.nii.gz", [=](const fs::path& p) { cut_to(phantom, p, 0.6); }, 3, "truncated");
  image_kind(
      "truncated .nii", "cut.nii", [](const fs::path& p) { write_bytes(p, nifti_bytes({}).substr(0, 352 + 40)); }, 3,
      "truncated");
  image_kind(
      "truncated .mha", "cut.mha",
      [](const fs::path& p) {
        write_bytes(p, mha("NDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\n", std::string(20, '\0')));
      },
      3, "truncated");
  image_kind(
      "truncated .nrrd", "cut.nrrd",
      [](const fs::path& p) {
        write_bytes(p, "NRRD0004\ntype: short\ndimension: 3\nsizes: 4 3 2\nendian: little\nencoding: raw\n\n" +
                           std::string(20, '\0'));
      },
      3, "truncated");
  image_kind(
      ".mhd whose data file is missing", "two.mhd",
      [](const fs::path& p) {
        write_bytes(
            p, "ObjectType = Image\nNDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\nElementDataFile = two.raw\n");
      },
      3, "is missing");
  image_kind(
      "damaged gzip stream in .nii.gz", "flipped.nii.gz",
      [=](const fs::path& p) {
        std::string bytes = read_text(phantom);
        for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) bytes[i] = static_cast<char>(~bytes[i]);
        write_bytes(p, bytes);
      },
      3, "flipped.nii.gz");
  image_kind(
      "header claims a huge size (.nrrd)", "huge.nrrd",
      [](const fs::path& p) {
        write_bytes(
            p,
            "NRRD0004\ntype: short\ndimension: 3\nsizes: 100000 100000 100000\nendian: little\nencoding: raw\n\nabcd");
      },
      3, "claims 2000000000000000 bytes");
  image_kind(
      "header claims a huge size (gzip .nrrd)", "huge_gz.nrrd",
      [](const fs::path& p) {
        write_bytes(
            p, "NRRD0004\ntype: short\ndimension: 3\nsizes: 4000 4000 4000\nendian: little\nencoding: gzip\n\nabcd");
      },
      3, "claims 128000000000 bytes");
  image_kind(
      "header claims a huge size (.mha)", "huge.mha",
      [](const fs::path& p) {
        write_bytes(p, mha("NDims = 3\nDimSize = 100000 100000 100000\nElementType = MET_SHORT\n", "abcd"));
      },
      3, "truncated");
  image_kind(
      "header claims a huge size (.nii)", "huge.nii",
      [](const fs::path& p) {
        NiftiFile f;
        f.size = {30000, 30000, 30000};
        f.voxels.clear();
        write_bytes(p, nifti_bytes(f));
      },
      3, "truncated");
  // Impossible geometry and voxel values.
  image_kind(
      "2D image", "flat.mha",
      [](const fs::path& p) {
        write_bytes(p, mha("NDims = 2\nDimSize = 4 3\nElementType = MET_SHORT\n", std::string(24, '\0')));
      },
      4, "2D image");
  image_kind(
      "4D image with 2 time points", "movie.mha",
      [](const fs::path& p) {
        write_bytes(p, mha("NDims = 4\nDimSize = 4 3 2 2\nElementType = MET_SHORT\n", std::string(96, '\0')));
      },
      4, "4D image");
  image_kind(
      "vector (RGB) image", "rgb.mha",
      [](const fs::path& p) {
        write_bytes(p, mha("NDims = 3\nDimSize = 4 3 2\nElementNumberOfChannels = 3\nElementType = MET_UCHAR\n",
                           std::string(72, '\0')));
      },
      4, "components per voxel");
  image_kind(
      "zero spacing (.mha)", "zero.mha",
      [=](const fs::path& p) {
        write_bytes(p,
                    mha("NDims = 3\nDimSize = 2 2 2\nElementType = MET_SHORT\nElementSpacing = 1 0 1\n", short_2x2x2));
      },
      1, "spacing must be finite and > 0");
  image_kind(
      "negative spacing (.mha)", "negative.mha",
      [=](const fs::path& p) {
        write_bytes(p,
                    mha("NDims = 3\nDimSize = 2 2 2\nElementType = MET_SHORT\nElementSpacing = 1 1 -2\n", short_2x2x2));
      },
      1, "spacing must be finite and > 0");
  image_kind(
      "NaN spacing (.nii pixdim)", "nan_spacing.nii",
      [=](const fs::path& p) {
        NiftiFile f;
        f.spacing[2] = nan;
        write_bytes(p, nifti_bytes(f));
      },
      1, "pixdim[3]");
  image_kind(
      "zero spacing (.nii pixdim)", "zero_spacing.nii",
      [](const fs::path& p) {
        NiftiFile f;
        f.spacing[0] = 0;
        write_bytes(p, nifti_bytes(f));
      },
      1, "pixdim[1]");
  image_kind(
      "NaN voxel (.nii.gz)", "nan.nii.gz",
      [=](const fs::path& p) {
        NiftiFile f;
        f.voxels[9] = nan;
        write_gzip(p.string(), nifti_bytes(f));
      },
      1, "non-finite voxel value");
  image_kind(
      "infinite voxel (big-endian .nii)", "inf.nii",
      [=](const fs::path& p) {
        NiftiFile f;
        f.big_endian = true;
        f.voxels[3] = -inf;
        write_bytes(p, nifti_bytes(f));
      },
      1, "non-finite voxel value");
  image_kind(
      "NaN voxel (.mha)", "nan.mha",
      [=](const fs::path& p) {
        std::string raw(8 * 4, '\0');
        std::memcpy(&raw[4], &nan, 4);
        write_bytes(p, mha("NDims = 3\nDimSize = 2 2 2\nElementType = MET_FLOAT\n", raw));
      },
      1, "non-finite");
  image_kind(
      "45-degree oblique volume", "oblique.mha",
      [=](const fs::path& p) {
        const double c = std::sqrt(0.5);
        std::ostringstream h;
        h << "NDims = 3\nDimSize = 2 2 2\nElementType = MET_SHORT\nTransformMatrix = 1 0 0 0 " << c << " " << c << " 0 "
          << -c << " " << c << "\n";
        write_bytes(p, mha(h.str(), short_2x2x2));
      },
      4, "oblique");
  image_kind(
      "a volume that is not a body (uniform air)", "air.mha",
      [](const fs::path& p) {
        std::string raw;
        for (int n = 0; n < 32 * 32 * 20; ++n) raw += std::string("\x18\xfc", 2);  // -1000 HU, int16 little-endian
        write_bytes(p, mha("NDims = 3\nDimSize = 32 32 20\nElementType = MET_SHORT\nElementSpacing = 10 10 10\n", raw));
      },
      0, "does not recognise this scan");
  k.back().answers = true;
  // DICOM directories.
  const auto dicom_kind = [&](const std::string& kind, std::function<void(const fs::path&)> make, int code,
                              const std::string& message) {
    k.push_back({"dicom", kind,
                 [make](const fs::path& in, const fs::path& out) {
                   fs::create_directories(in / "series");
                   make(in / "series");
                   return locate(in / "series", out);
                 },
                 code, message});
  };
  dicom_kind(
      "empty directory", [](const fs::path&) {}, 4, "no DICOM");
  dicom_kind(
      "directory of text files", [](const fs::path& d) { write_bytes(d / "notes.txt", "hello"); }, 4, "no DICOM");
  dicom_kind(
      "two CT series mixed in one directory",
      [](const fs::path& d) {
        DicomSeriesOptions a, b;
        a.prefix = "a";
        b.prefix = "b";
        write_dicom_series(d.string(), a);
        write_dicom_series(d.string(), b);
      },
      4, "CT series");
  dicom_kind(
      "a truncated slice",
      [](const fs::path& d) {
        const auto files = write_dicom_series(d.string());
        fs::resize_file(files[3], fs::file_size(files[3]) - 700);
      },
      3, "slice_003.dcm");
  dicom_kind(
      "a slice that is not DICOM among good ones",
      [](const fs::path& d) {
        const auto files = write_dicom_series(d.string());
        std::string bytes = read_text(files[4]);
        std::memset(&bytes[128], 'X', 4);  // the DICM magic after the preamble
        write_bytes(files[4], bytes.substr(0, 300));
      },
      0, "missing slices");
  k.back().answers = true;
  dicom_kind(
      "a missing slice",
      [](const fs::path& d) {
        const auto files = write_dicom_series(d.string());
        fs::remove(files[3]);
      },
      0, "missing slices");
  k.back().answers = true;
  dicom_kind(
      "two files at one slice position",
      [](const fs::path& d) {
        const auto files = write_dicom_series(d.string());
        fs::copy_file(files[2], d / "slice_002_copy.dcm");
      },
      0, "duplicate slice positions");
  k.back().answers = true;
  // Damaged or foreign model files.
  const auto model_kind = [&](const std::string& kind, std::function<void(const fs::path&)> make, int code,
                              const std::string& message) {
    k.push_back({"model", kind,
                 [make](const fs::path& in, const fs::path& out) {
                   make(in / "model.snm");
                   return std::vector<std::string>{"score",   Inputs::get().phantom.string(),
                                                   "--model", (in / "model.snm").string(),
                                                   "-o",      (out / "scores.json").string()};
                 },
                 code, message});
  };
  model_kind(
      "missing model file", [](const fs::path&) {}, 2, "does not exist");
  model_kind(
      "empty model file", [](const fs::path& p) { write_bytes(p, ""); }, 5, "not a slicenav model file");
  model_kind(
      "a NIfTI given as the model", [](const fs::path& p) { fs::copy_file(Inputs::get().phantom, p); }, 5,
      "not a slicenav model file");
  model_kind(
      "truncated model file",
      [](const fs::path& p) {
        const std::string bytes = model_bytes();
        write_bytes(p, bytes.substr(0, bytes.size() / 2));
      },
      5, "model.snm");
  model_kind(
      "model file with one flipped byte",
      [](const fs::path& p) {
        std::string bytes = model_bytes();
        bytes[bytes.size() / 3] = static_cast<char>(bytes[bytes.size() / 3] ^ 0x10);
        write_bytes(p, bytes);
      },
      5, "model.snm");
  model_kind(
      "model file from a newer format version",
      [](const fs::path& p) {
        std::string bytes = model_bytes();
        const std::uint32_t newer = 999;
        std::memcpy(&bytes[8], &newer, 4);
        write_bytes(p, bytes);
      },
      6, "format version 999");
  // Bad crop records.
  const auto record_kind = [&](const std::string& kind, std::function<void(const fs::path&)> make, int code,
                               const std::string& message) {
    k.push_back({"crop record", kind,
                 [make](const fs::path& in, const fs::path& out) {
                   make(in / "record.json");
                   return std::vector<std::string>{"uncrop",   Inputs::get().crop.string(),
                                                   "--record", (in / "record.json").string(),
                                                   "-o",       (out / "full.nii.gz").string()};
                 },
                 code, message});
  };
  record_kind(
      "missing record", [](const fs::path&) {}, 2, "does not exist");
  record_kind(
      "record that is not JSON", [](const fs::path& p) { write_bytes(p, "{\"version\": 1,"); }, 1, "JSON");
  record_kind(
      "record without its original grid",
      [](const fs::path& p) { write_bytes(p, edited_record("\"original\"", "\"originally\"")); }, 1, "original");
  record_kind(
      "record whose crop grid is not the image's",
      [](const fs::path& p) { write_bytes(p, edited_record("\"spacing\": [", "\"spacing\": [3.5, ")); }, 1, "spacing");
  // Foreign nnU-Net datasets.
  const auto dataset_kind = [&](const std::string& kind, std::function<void(const fs::path&)> make, int code,
                                const std::string& message) {
    k.push_back({"nnU-Net dataset", kind,
                 [make](const fs::path& in, const fs::path& out) {
                   const fs::path dataset = in / "Dataset001_Phantom";
                   fs::copy(Inputs::get().dataset, dataset, fs::copy_options::recursive);
                   make(dataset);
                   return std::vector<std::string>{
                       "nnunet",   "crop-dataset", "--in",  dataset.string(),
                       "--region", "liver",        "--out", (out / "Dataset002_Crop").string()};
                 },
                 code, message});
  };
  dataset_kind(
      "dataset folder missing", [](const fs::path& d) { fs::remove_all(d); }, 2, "does not exist");
  dataset_kind(
      "dataset.json missing", [](const fs::path& d) { fs::remove(d / "dataset.json"); }, 2, "dataset.json");
  dataset_kind(
      "dataset.json not JSON", [](const fs::path& d) { write_bytes(d / "dataset.json", "{channel"); }, 1,
      "not valid JSON");
  dataset_kind(
      "dataset.json without channel_names",
      [](const fs::path& d) {
        write_bytes(d / "dataset.json", R"({"labels": {"background": 0}, "numTraining": 2, "file_ending": ".nii.gz"})");
      },
      1, "channel_names");
  dataset_kind(
      "dataset of PNG images",
      [](const fs::path& d) {
        write_bytes(
            d / "dataset.json",
            R"({"channel_names": {"0": "CT"}, "labels": {"background": 0}, "numTraining": 2, "file_ending": ".png"})");
      },
      4, ".png");
  // Bad options.
  k.push_back({"options", "unknown region",
               [](const fs::path&, const fs::path& out) {
                 return std::vector<std::string>{
                     "crop", Inputs::get().phantom.string(), "--region", "elbow",
                     "-o",   (out / "c.nii.gz").string(),    "--record", (out / "c.json").string()};
               },
               1, "the model crops"});
  k.push_back({"options", "negative thread count",
               [](const fs::path&, const fs::path& out) {
                 return std::vector<std::string>{"locate", Inputs::get().phantom.string(), "--threads", "-3",
                                                 "-o",     (out / "l.json").string()};
               },
               105, "must be a number >= 0"});
  k.push_back({"options", "unknown option",
               [](const fs::path&, const fs::path& out) {
                 return std::vector<std::string>{"locate", Inputs::get().phantom.string(), "--fast", "-o",
                                                 (out / "l.json").string()};
               },
               109, "--fast"});
  k.push_back({"options", "unknown prealign method",
               [](const fs::path&, const fs::path& out) {
                 const std::string p = Inputs::get().phantom.string();
                 return std::vector<std::string>{"prealign", p, p, "--method", "magic", "-o", (out / "t.txt").string()};
               },
               105, "magic"});
  k.push_back({"options", "rigid prealign with a z method",
               [](const fs::path&, const fs::path& out) {
                 const std::string p = Inputs::get().phantom.string();
                 return std::vector<std::string>{"prealign", p,       p,    "--rigid",
                                                 "--method", "score", "-o", (out / "t.txt").string()};
               },
               108, "excludes"});
  k.push_back({"options", "rigid prealign against a volume without a body",
               [](const fs::path& in, const fs::path& out) {
                 std::string raw;
                 for (int n = 0; n < 32 * 32 * 20; ++n) raw += std::string("\x18\xfc", 2);  // -1000 HU, int16
                 write_bytes(
                     in / "air.mha",
                     mha("NDims = 3\nDimSize = 32 32 20\nElementType = MET_SHORT\nElementSpacing = 10 10 10\n", raw));
                 return std::vector<std::string>{"prealign",
                                                 Inputs::get().phantom.string(),
                                                 (in / "air.mha").string(),
                                                 "--rigid",
                                                 "-o",
                                                 (out / "t.txt").string(),
                                                 "--threads",
                                                 "1"};
               },
               4, "no body found"});
  k.push_back({"options", "shard out of range",
               [](const fs::path& in, const fs::path& out) {
                 write_bytes(in / "list.txt", Inputs::get().phantom.string() + "\n");
                 return std::vector<std::string>{"score",   "--batch", (in / "list.txt").string(), "-o", out.string(),
                                                 "--shard", "3/2"};
               },
               105, "3/2"});
  k.push_back({"options", "unknown device",
               [](const fs::path&, const fs::path& out) {
                 return std::vector<std::string>{"locate", Inputs::get().phantom.string(), "--device", "tpu:0",
                                                 "-o",     (out / "l.json").string()};
               },
               1, "tpu:0"});
  // Unwritable outputs.
  k.push_back({"output", "output folder missing",
               [](const fs::path&, const fs::path& out) {
                 return locate(Inputs::get().phantom, out / "no" / "such" / "folder");
               },
               3, "no/such/folder"});
  k.push_back({"output", "output folder is a file",
               [](const fs::path& in, const fs::path& out) {
                 write_bytes(in / "blocker", "x");
                 return std::vector<std::string>{"crop",      Inputs::get().phantom.string(),
                                                 "--region",  "liver",
                                                 "-o",        (in / "blocker" / "c.nii.gz").string(),
                                                 "--record",  (out / "c.json").string(),
                                                 "--threads", "1"};
               },
               3, "blocker"});
  k.push_back({"output", "full disk while writing a crop",
               [](const fs::path&, const fs::path& out) {
                 return std::vector<std::string>{"crop",      Inputs::get().phantom.string(),
                                                 "--region",  "liver",
                                                 "-o",        (out / "c.nii.gz").string(),
                                                 "--record",  (out / "c.json").string(),
                                                 "--threads", "1"};
               },
               3, "the file written is incomplete (is the disk full?)", Limits{8192, 120}});
  k.push_back({"output", "full disk while writing landmarks",
               [](const fs::path&, const fs::path& out) { return locate(Inputs::get().phantom, out); }, 3,
               "landmarks.json", Limits{1000, 120}});
  // Batch lists.
  k.push_back({"batch", "batch list missing",
               [](const fs::path& in, const fs::path& out) {
                 return std::vector<std::string>{"score", "--batch", (in / "none.txt").string(), "-o", out.string()};
               },
               2, "none.txt"});
  k.push_back({"batch", "batch list with only comments",
               [](const fs::path& in, const fs::path& out) {
                 write_bytes(in / "list.txt", "# nothing here\n\n");
                 return std::vector<std::string>{"score", "--batch", (in / "list.txt").string(), "-o", out.string()};
               },
               1, "list.txt"});
  k.push_back({"batch", "batch list naming two cases alike",
               [](const fs::path& in, const fs::path& out) {
                 fs::create_directories(in / "a");
                 fs::create_directories(in / "b");
                 fs::copy_file(Inputs::get().phantom, in / "a" / "ct.nii.gz");
                 fs::copy_file(Inputs::get().phantom, in / "b" / "ct.nii.gz");
                 write_bytes(in / "list.txt", "a/ct.nii.gz\nb/ct.nii.gz\n");
                 return std::vector<std::string>{"score", "--batch", (in / "list.txt").string(), "-o", out.string()};
               },
               1, "same name"});
  k.push_back({"batch", "batch list naming a binary file",
               [](const fs::path& in, const fs::path& out) {
                 write_bytes(in / "list.txt", std::string("\x00\x01\x02\xff\n", 5));
                 return std::vector<std::string>{"score", "--batch", (in / "list.txt").string(), "-o", out.string()};
               },
               1, "control characters"});
  return k;
}

class BadInputMatrix : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    const char* table = std::getenv("SLICENAV_MATRIX_TABLE");
    if (table == nullptr) return;
    std::ofstream out(table);
    out << "| # | group | kind | exit code | message (the tool's error line) |\n|---:|---|---|---:|---|\n";
    for (std::size_t i = 0; i < rows_.size(); ++i) out << "| " << i + 1 << " | " << rows_[i] << " |\n";
  }
  static std::vector<std::string> rows_;
};
std::vector<std::string> BadInputMatrix::rows_;

// The tool's own error line ("slicenav: <status>: ..."), or the first line of stderr when there is none (an option
// error); libraries may print their own lines before it.
std::string message_line(const std::string& text) {
  const std::size_t own = text.rfind("\nslicenav: ");
  const std::size_t start = text.rfind("slicenav: ", 0) == 0 || own == std::string::npos ? 0 : own + 1;
  std::string line = text.substr(start, text.find('\n', start) - start);
  for (const std::string& prefix : {std::string(SLICENAV_TEST_TMP) + "/"}) {
    for (std::size_t at; (at = line.find(prefix)) != std::string::npos;) line.erase(at, prefix.size());
  }
  for (char& c : line) c = c == '|' ? '/' : c;
  return line;
}

}  // namespace

TEST_F(BadInputMatrix, EveryKindHasItsStatusAMessageAndLeavesNoOutput) {
  const std::vector<Kind> all = kinds();
  EXPECT_GE(all.size(), 40u);
  std::map<std::string, int> seen;
  for (const Kind& kind : all) {
    SCOPED_TRACE(kind.group + ": " + kind.kind);
    EXPECT_EQ(seen[kind.kind]++, 0) << "kind listed twice";
    const fs::path scratch = fs::path(SLICENAV_TEST_TMP) / "bad_input_matrix" / std::to_string(seen.size());
    fs::remove_all(scratch);
    fs::create_directories(scratch / "in");
    fs::create_directories(scratch / "out");
    const std::vector<std::string> args = kind.setup(scratch / "in", scratch / "out");
    const Outcome outcome = run_process(SLICENAV_CLI_PATH, args, scratch, kind.limits);
    EXPECT_FALSE(outcome.timed_out) << "hung";
    EXPECT_EQ(outcome.signal, 0) << "killed by signal " << outcome.signal << "\n" << outcome.err;
    EXPECT_EQ(outcome.exit_code, kind.exit_code) << outcome.err;
    EXPECT_NE(outcome.err.find(kind.message), std::string::npos) << "stderr lacks '" << kind.message << "':\n"
                                                                 << outcome.err;
    if (kind.answers) {
      EXPECT_EQ(files_under(scratch / "out").size(), 1u) << "the answer is written";
    } else {
      EXPECT_EQ(files_under(scratch / "out"), std::vector<std::string>{}) << "output left behind";
    }
    rows_.push_back(kind.group + " | " + kind.kind + " | " + std::to_string(outcome.exit_code) + " | `" +
                    message_line(outcome.err) + "`");
  }
}

}  // namespace slicenav::test
