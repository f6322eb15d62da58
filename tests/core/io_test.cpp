#include "slicenav/io.hpp"

#include <gtest/gtest.h>
#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkNiftiImageIO.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "nifti_bytes.hpp"
#include "slicenav/error.hpp"
#include "slicenav/orientation.hpp"
#include "slicenav/phantom.hpp"
#include "test_data.hpp"
#include "test_support.hpp"
#include "volume_variants.hpp"

namespace slicenav {
namespace fs = std::filesystem;
namespace {

class Io : public test::TempDirTest {
 protected:
  // A hand-written MetaImage header (.mhd) with raw data beside it.
  std::string write_mhd(const std::string& name, const std::string& header_lines, const std::string& raw) const {
    const std::string raw_name = name + ".raw";
    std::ofstream(dir_ / raw_name, std::ios::binary) << raw;
    std::ofstream(dir_ / (name + ".mhd")) << "ObjectType = Image\n"
                                          << header_lines << "ElementDataFile = " << raw_name << "\n";
    return path(name + ".mhd");
  }
};

Status read_status(const std::string& path, std::string* message = nullptr, const ReadOptions& options = {}) {
  return test::status_of([&] { read_volume(path, options); }, message);
}

// Read options that pack every int16 volume (as read_volume packs long scans).
ReadOptions packing() {
  ReadOptions options;
  options.pack_above_bytes = 0;
  return options;
}

Volume small_phantom(const std::string& code, double noise) {
  PhantomOptions options;
  options.size = {23, 19, 17};
  options.spacing = {3.5, 4.25, 6.0};
  options.orientation = code;
  options.noise_hu = noise;
  options.top_z_mm = -37.25;
  return make_phantom(options).volume;
}

void expect_same_volume(const Volume& a, const Volume& b, double tolerance) {
  const Geometry &ga = a.geometry(), &gb = b.geometry();
  EXPECT_EQ(ga.size, gb.size);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(ga.spacing[i], gb.spacing[i], 1e-5);
    EXPECT_NEAR(ga.origin[i], gb.origin[i], 1e-4);
  }
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(ga.direction[i], gb.direction[i], 1e-6);
  const std::vector<float> va = a.voxels_as_float(), vb = b.voxels_as_float();
  ASSERT_EQ(va.size(), vb.size());
  double worst = 0;
  for (std::size_t n = 0; n < va.size(); ++n) worst = std::max(worst, double(std::abs(va[n] - vb[n])));
  EXPECT_LE(worst, tolerance);
}

std::size_t temp_files_in(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) n += entry.path().filename().string().rfind(".", 0) == 0;
  return n;
}

}  // namespace

TEST_F(Io, RoundTripsEveryWritableFormat) {
  for (const char* code : {"LPS", "RAI", "SLA"}) {
    for (const char* ext : {".nii", ".nii.gz", ".mha", ".nrrd"}) {
      SCOPED_TRACE(std::string(code) + ext);
      const Volume integral = small_phantom(code, 0.0);
      const std::string file = path(std::string("int_") + code + ext);
      write_volume(integral, file);
      const Volume back = read_volume(file);
      expect_same_volume(integral, back, 0.0);
      EXPECT_EQ(back.source().pixel_type, "short");  // integral HU are stored as int16
      EXPECT_EQ(back.source().path, file);
      EXPECT_EQ(orientation_code(back.geometry()), code);

      const Volume noisy = small_phantom(code, 12.5);
      const std::string float_file = path(std::string("float_") + code + ext);
      write_volume(noisy, float_file);
      const Volume float_back = read_volume(float_file);
      EXPECT_EQ(float_back.source().pixel_type, "float");
      expect_same_volume(noisy, float_back, 0.0);
    }
  }
  EXPECT_EQ(temp_files_in(dir_), 0u);
}

// slicenav writes NIfTI itself (sform and qform from the grid); ITK reads the geometry back. Every one of the 48
// axis orders, and an oblique frame (10 degrees about two axes), comes back as written, from the sform and from
// the qform alone.
TEST_F(Io, NiftiWriterKeepsTheGeometryOfEveryAxisOrder) {
  std::vector<Mat3> directions;
  const std::string letters[3] = {"LR", "PA", "SI"};
  const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  for (const auto& o : orders) {
    for (int flips = 0; flips < 8; ++flips) {
      std::string code;
      for (int a = 0; a < 3; ++a) code += letters[o[a]][(flips >> a) & 1];
      directions.push_back(direction_from_code(code));
    }
  }
  const double t = 10.0 * 3.14159265358979 / 180.0;
  const Mat3 rx{1, 0, 0, 0, std::cos(t), -std::sin(t), 0, std::sin(t), std::cos(t)};
  const Mat3 ry{std::cos(t), 0, std::sin(t), 0, 1, 0, -std::sin(t), 0, std::cos(t)};
  Mat3 oblique{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 3; ++k) oblique[3 * r + c] += rx[3 * r + k] * ry[3 * k + c];
  directions.push_back(oblique);
  ASSERT_EQ(directions.size(), 49u);
  int n = 0;
  for (const Mat3& direction : directions) {
    Geometry g;
    g.size = {5, 4, 3};
    g.spacing = {0.75, 1.25, 2.5};
    g.origin = {-120.5, 33.25, -401.0};
    g.direction = direction;
    std::vector<float> voxels(g.voxel_count());
    for (std::size_t v = 0; v < voxels.size(); ++v) voxels[v] = static_cast<float>(v) - 30.0f;
    const Volume volume(g, voxels);
    const std::string file = path("axes" + std::to_string(n++) + ".nii.gz");
    SCOPED_TRACE(file);
    write_volume(volume, file);
    expect_same_volume(volume, read_volume(file), 0.0);
    // The qform alone (sform_code 0): ITK reads the quaternion.
    {
      std::string bytes;
      {
        gzFile in = gzopen(file.c_str(), "rb");
        char chunk[4096];
        int got = 0;
        while ((got = gzread(in, chunk, sizeof chunk)) > 0) bytes.append(chunk, static_cast<std::size_t>(got));
        gzclose(in);
      }
      bytes[254] = 0, bytes[255] = 0;
      test::write_gzip(file + ".qform.nii.gz", bytes);
      const Volume q = read_volume(file + ".qform.nii.gz");
      for (int i = 0; i < 3; ++i) {
        EXPECT_NEAR(q.geometry().origin[i], g.origin[i], 1e-4);
        EXPECT_NEAR(q.geometry().spacing[i], g.spacing[i], 1e-6);
      }
      for (int i = 0; i < 9; ++i) EXPECT_NEAR(q.geometry().direction[i], g.direction[i], 1e-5) << i;
    }
  }
}

TEST_F(Io, ForcedInt16RoundsAndRejectsOutOfRange) {
  const Volume noisy = small_phantom("LPS", 12.5);
  write_volume(noisy, path("forced.nii.gz"), PixelType::int16);
  const Volume back = read_volume(path("forced.nii.gz"));
  EXPECT_EQ(back.source().pixel_type, "short");
  expect_same_volume(noisy, back, 0.5);

  std::vector<float> big(noisy.voxels_as_float());
  big[5] = 40000.0f;
  const Volume out_of_range(noisy.geometry(), big);
  EXPECT_THROW(write_volume(out_of_range, path("big.nii.gz"), PixelType::int16), Error);
  EXPECT_FALSE(fs::exists(path("big.nii.gz")));
  write_volume(out_of_range, path("big.nii.gz"));  // automatic: float32
  EXPECT_EQ(read_volume(path("big.nii.gz")).source().pixel_type, "float");
}

TEST_F(Io, FailedWriteKeepsTheExistingFileAndLeavesNoTemporary) {
  const Volume v = small_phantom("LPS", 0.0);
  write_volume(v, path("keep.nii.gz"));
  const auto before = fs::file_size(path("keep.nii.gz"));
  std::vector<float> big(v.voxels_as_float());
  big[0] = 1e6f;
  EXPECT_THROW(write_volume(Volume(v.geometry(), big), path("keep.nii.gz"), PixelType::int16), Error);
  EXPECT_EQ(fs::file_size(path("keep.nii.gz")), before);
  try {
    write_volume(v, path("missing_dir/out.nii.gz"));
    FAIL() << "write into a missing directory succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::io);
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
  std::ofstream(path("a_file")) << "x";
  EXPECT_THROW(write_volume(v, path("a_file/out.nii.gz")), Error);
  for (const char* bad : {"out.mhd", "out.nhdr", "out.png", "out"}) {
    try {
      write_volume(v, path(bad));
      FAIL() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::unsupported_input) << bad;
    }
  }
  EXPECT_EQ(temp_files_in(dir_), 0u);
}

TEST_F(Io, ReadsTwoFileMetaImage) {
  std::string raw(4 * 3 * 2 * 2, '\0');
  auto* values = reinterpret_cast<std::int16_t*>(raw.data());
  for (int n = 0; n < 24; ++n) values[n] = static_cast<std::int16_t>(n * 10 - 1000);
  const std::string file = write_mhd("ok",
                                     "NDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\n"
                                     "ElementSpacing = 0.5 0.75 2.5\nOffset = 1 2 3\n"
                                     "TransformMatrix = -1 0 0 0 -1 0 0 0 1\n",
                                     raw);
  const Volume v = read_volume(file);
  EXPECT_EQ(v.geometry().size, (std::array<std::size_t, 3>{4, 3, 2}));
  EXPECT_DOUBLE_EQ(v.geometry().spacing[2], 2.5);
  EXPECT_EQ(orientation_code(v.geometry()), "RAS");
  EXPECT_FLOAT_EQ(v.at(3, 2, 1), 230.0f - 1000.0f);
  EXPECT_EQ(v.source().format, "metaimage");
}

TEST_F(Io, BadFilesGiveAStatusAndANamedProblem) {
  const std::string two_slices(4 * 3 * 2 * 2, '\0');
  struct Case {
    std::string what;
    std::string file;
    Status status;
    std::string message_part;
  };
  std::string nan_raw(4 * 3 * 2 * 4, '\0');
  reinterpret_cast<float*>(nan_raw.data())[7] = std::numeric_limits<float>::quiet_NaN();
  std::string inf_raw(4 * 3 * 2 * 4, '\0');
  reinterpret_cast<float*>(inf_raw.data())[3] = -std::numeric_limits<float>::infinity();
  std::ofstream(path("text.nii.gz")) << "this is not an image\n";
  std::ofstream(path("notes.txt")) << "hello\n";
  write_volume(small_phantom("LPS", 0.0), path("whole.nii.gz"));
  write_volume(small_phantom("LPS", 3.0), path("whole.nii"));
  write_volume(small_phantom("LPS", 3.0), path("whole.mha"));
  write_volume(small_phantom("LPS", 3.0), path("whole.nrrd"));
  for (const char* name : {"whole.nii.gz", "whole.nii", "whole.mha", "whole.nrrd"}) {
    const auto size = fs::file_size(path(name));
    const std::string cut = path(std::string("cut_") + name);
    fs::copy_file(path(name), cut);
    fs::resize_file(cut, size * 2 / 3);
  }
  // A header that claims a grid of 27e12 int16 voxels in a file of a few hundred bytes: refused before any room is
  // made for them, in both reads.
  test::NiftiFile huge;
  huge.size = {30000, 30000, 30000};
  huge.datatype = 4;
  std::ofstream(path("huge_grid.nii"), std::ios::binary) << test::nifti_bytes(huge);
  test::write_gzip(path("huge_grid.nii.gz"), test::nifti_bytes(huge));
  const std::vector<Case> cases = {
      {"missing file", path("nope.nii.gz"), Status::not_found, "does not exist"},
      {"huge grid in a small .nii", path("huge_grid.nii"), Status::io, "truncated"},
      {"huge grid in a small .nii.gz", path("huge_grid.nii.gz"), Status::io, "damaged"},
      {"unknown extension", path("notes.txt"), Status::unsupported_input, "unknown extension"},
      {"text named .nii.gz", path("text.nii.gz"), Status::io, "text.nii.gz"},
      {"truncated .nii.gz", path("cut_whole.nii.gz"), Status::io, "cut_whole.nii.gz"},
      {"truncated .nii", path("cut_whole.nii"), Status::io, "cut_whole.nii"},
      {"truncated .mha", path("cut_whole.mha"), Status::io, "cut_whole.mha"},
      {"truncated .nrrd", path("cut_whole.nrrd"), Status::io, "cut_whole.nrrd"},
      {"2D image", write_mhd("flat", "NDims = 2\nDimSize = 4 3\nElementType = MET_SHORT\n", std::string(24, '\0')),
       Status::unsupported_input, "2D"},
      {"4D image",
       write_mhd("movie", "NDims = 4\nDimSize = 4 3 2 2\nElementType = MET_SHORT\n", two_slices + two_slices),
       Status::unsupported_input, "4D"},
      {"RGB image",
       write_mhd("rgb", "NDims = 3\nDimSize = 4 3 2\nElementNumberOfChannels = 3\nElementType = MET_UCHAR\n",
                 std::string(72, '\0')),
       Status::unsupported_input, "components"},
      {"zero spacing",
       write_mhd("zero", "NDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\nElementSpacing = 1 0 1\n", two_slices),
       Status::invalid_argument, "spacing"},
      {"negative spacing",
       write_mhd("neg", "NDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\nElementSpacing = 1 1 -2\n", two_slices),
       Status::invalid_argument, "spacing"},
      {"NaN voxel", write_mhd("nan", "NDims = 3\nDimSize = 4 3 2\nElementType = MET_FLOAT\n", nan_raw),
       Status::invalid_argument, "non-finite"},
      {"inf voxel", write_mhd("inf", "NDims = 3\nDimSize = 4 3 2\nElementType = MET_FLOAT\n", inf_raw),
       Status::invalid_argument, "non-finite"},
      {"short raw data",
       write_mhd("short", "NDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\n", std::string(10, '\0')), Status::io,
       "short"},
      {"empty path", "", Status::invalid_argument, "no input"},
      // Found by fuzz_volume: ITK threw from inside the reader's size computation (std::terminate).
      {"no voxel type", write_mhd("untyped", "NDims = 3\nDimSize = 4 3 2\n", two_slices), Status::io, "untyped.mhd"},
      // Found by fuzz_volume: a header key of 255 characters or more overflowed a buffer inside ITK's MetaIO.
      {"overlong header key",
       write_mhd("long_key", "NDims = 3\n" + std::string(300, 'K') + " = 1\nDimSize = 4 3 2\nElementType = MET_SHORT\n",
                 two_slices),
       Status::io, "key 3 of its MetaImage header"},
      // Found by fuzz_volume: a key that only begins with ElementDataFile is not the header's end (MetaIO reads on),
      // and a key may end at ':' as well as '='.
      {"overlong key after an ElementDataFile look-alike",
       write_mhd("long_key2",
                 "NDims = 3\nElementDataFileOrigin : 0\n" + std::string(300, '\xff') +
                     ": 1\nDimSize = 4 3 2\nElementType = MET_SHORT\n",
                 two_slices),
       Status::io, "key 4 of its MetaImage header"},
      // Found by fuzz_volume: MetaIO divided by the step of a numbered-file pattern (SIGFPE).
      {"numbered files with a zero step",
       write_mhd("zero_step", "NDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\nElementDataFile = s%d.raw 1 2 0\n",
                 two_slices),
       Status::unsupported_input, "several files"},
      // Found by fuzz_volume: the same pattern behind a key with NUL bytes after its name, which MetaIO reads as
      // ElementDataFile (it compares keys as C strings) while the header check did not.
      {"numbered files behind a key with NUL bytes",
       write_mhd("zero_step_nul_key",
                 "NDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\nElementDataFile" + std::string(3, '\0') +
                     " = s%d.raw 1 2 0\n",
                 two_slices),
       Status::unsupported_input, "several files"},
      // Found by fuzz_volume: a damaged LIST of slice files made MetaIO free memory it did not own.
      {"list of slice files",
       write_mhd("list", "NDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\nElementDataFile = LIST 2D\n",
                 two_slices),
       Status::unsupported_input, "several files"},
      {"ElementDataFile that names no file",
       write_mhd("no_data_file", "NDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\nElementDataFile = \n",
                 two_slices),
       Status::io, "names no file"},
      // Found by fuzz_volume: MetaIO copied a value of 255 characters or more into a 255-byte buffer, and looped over
      // a huge NDims for minutes.
      {"overlong header value",
       write_mhd("long_value",
                 "NDims = 3\nComment = " + std::string(300, 'v') + "\nDimSize = 4 3 2\nElementType = MET_SHORT\n",
                 two_slices),
       Status::io, "key 3 of its MetaImage header has a value longer"},
      // Found by fuzz_volume: MetaIO takes a key's value from the next separator, on a later line when the key's line
      // has none, so an ElementDataFile line after such a key is skipped and the header goes on, here to a key of
      // 255 characters that overflowed MetaIO's key buffer.
      {"key of 255 characters after a line without a separator",
       write_mhd("no_separator",
                 "NDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\nO \nElementDataFile = e\n" +
                     std::string(255, 'K') + ": 1\n",
                 two_slices),
       Status::io, "key 6 of its MetaImage header is longer than 254"},
      {"huge NDims",
       write_mhd("huge_ndims", "NDims = 22222222222222222222\nDimSize = 4 3 2\nElementType = MET_SHORT\n", two_slices),
       Status::io, "NDims"},
      // Found by fuzz_volume: with compressed data and no CompressedDataSize, MetaIO allocated 2^63 bytes for a data
      // file that does not exist (its name cut at a NUL byte, as MetaIO reads it).
      {"compressed data in a missing file",
       write_mhd("missing_data",
                 "NDims = 3\nCompressedData = True\nDimSize = 4 3 2\nElementType = MET_SHORT\n"
                 "ElementDataFile = nowhere" +
                     std::string(1, '\0') + "x.raw\n",
                 two_slices),
       Status::io, "is missing"},
      // Found by fuzz_volume: MetaIO read past a 255-byte buffer holding the data file's path.
      {"data file path of 255+ characters",
       write_mhd(
           "long_data_path",
           "NDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\nElementDataFile = " + std::string(240, 'd') + ".raw\n",
           two_slices),
       Status::unsupported_input, "at most 254"},
      {"unknown voxel type", write_mhd("foo", "NDims = 3\nDimSize = 4 3 2\nElementType = MET_FOO\n", two_slices),
       Status::unsupported_input, "voxel type"},
  };
  for (const Case& c : cases) {
    std::string message;
    EXPECT_EQ(read_status(c.file, &message), c.status) << c.what << ": " << message;
    EXPECT_NE(message.find(c.message_part), std::string::npos) << c.what << ": " << message;
    EXPECT_EQ(read_status(c.file, &message, packing()), c.status) << c.what << ", packed: " << message;
    EXPECT_NE(message.find(c.message_part), std::string::npos) << c.what << ", packed: " << message;
  }
}

// The NIfTI library reads NaN and infinite floats as 0; slicenav must refuse them instead, in both byte orders and
// through gzip, and still read a clean float file of the same making.
TEST_F(Io, NonFiniteNiftiVoxelsAreRefusedNotZeroed) {
  for (const bool big : {false, true}) {
    test::NiftiFile clean;
    clean.big_endian = big;
    clean.voxels[5] = 40.0f;
    const std::string suffix = big ? "_be" : "_le";
    std::ofstream(path("clean" + suffix + ".nii"), std::ios::binary) << test::nifti_bytes(clean);
    const Volume v = read_volume(path("clean" + suffix + ".nii"));
    EXPECT_EQ(v.voxels_as_float()[5], 40.0f);
    EXPECT_EQ(v.geometry().spacing[2], 2.0);
    for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      test::NiftiFile damaged = clean;
      damaged.voxels[17] = bad;
      const std::string name = path("bad" + suffix + (std::isnan(bad) ? "_nan" : "_inf"));
      std::ofstream(name + ".nii", std::ios::binary) << test::nifti_bytes(damaged);
      test::write_gzip(name + ".nii.gz", test::nifti_bytes(damaged));
      for (const std::string& file : {name + ".nii", name + ".nii.gz"}) {
        std::string message;
        EXPECT_EQ(read_status(file, &message), Status::invalid_argument) << file << ": " << message;
        EXPECT_NE(message.find("non-finite voxel value (NaN or infinity) at voxel 17"), std::string::npos) << message;
        EXPECT_EQ(test::status_of([&] { read_raw_image(file); }), Status::invalid_argument) << file;
      }
    }
  }
}

// The voxels of a file as ITK's own NIfTI reader gives them, as float.
std::vector<float> itk_voxels(const std::string& file) {
  using Image = itk::Image<float, 3>;
  auto reader = itk::ImageFileReader<Image>::New();
  reader->SetImageIO(itk::NiftiImageIO::New());
  reader->SetFileName(file);
  reader->Update();
  const Image* image = reader->GetOutput();
  const std::size_t n = image->GetLargestPossibleRegion().GetNumberOfPixels();
  return std::vector<float>(image->GetBufferPointer(), image->GetBufferPointer() + n);
}

// read_raw_image's bytes as float (its component types for NIfTI files).
std::vector<float> raw_as_float(const RawImage& raw) {
  std::vector<float> out(raw.geometry.voxel_count());
  for (std::size_t n = 0; n < out.size(); ++n) {
    const unsigned char* at = raw.bytes.data() + n * raw.component_size;
    const auto get = [&](auto value) {
      std::memcpy(&value, at, sizeof value);
      return static_cast<float>(value);
    };
    if (raw.component_type == "float")
      out[n] = get(float{});
    else if (raw.component_type == "double")
      out[n] = get(double{});
    else if (raw.component_type == "short")
      out[n] = get(std::int16_t{});
    else if (raw.component_type == "unsigned_short")
      out[n] = get(std::uint16_t{});
    else if (raw.component_type == "int")
      out[n] = get(std::int32_t{});
    else if (raw.component_type == "unsigned_char")
      out[n] = get(std::uint8_t{});
    else
      ADD_FAILURE() << raw.component_type;
  }
  return out;
}

// slicenav decodes NIfTI voxels itself (one pass, libdeflate for .nii.gz); ITK still reads the geometry. The
// voxels must be ITK's, scaling included (ITK promotes scaled integers to float), for every stored type, both
// byte orders, plain and compressed. Scaled files were refused as truncated before (the size check used ITK's
// promoted float size).
TEST_F(Io, NiftiVoxelsAreItksForEveryTypeByteOrderAndScaling) {
  test::NiftiFile base;
  for (std::size_t n = 0; n < base.voxels.size(); ++n) base.voxels[n] = static_cast<float>(n * 7 % 23) * 11.0f;
  int files = 0;
  for (const std::int16_t datatype : {2, 4, 8, 16, 64, 512}) {
    for (const bool big : {false, true}) {
      for (const auto& [slope, inter] : {std::pair{1.0f, 0.0f}, std::pair{2.0f, -1024.0f}, std::pair{1.0f, -1024.0f},
                                         std::pair{0.0f, 0.0f}, std::pair{0.5f, 3.25f}}) {
        test::NiftiFile f = base;
        f.datatype = datatype;
        f.big_endian = big;
        f.scl_slope = slope;
        f.scl_inter = inter;
        const std::string bytes = test::nifti_bytes(f);
        const std::string name = path("t" + std::to_string(files++));
        std::ofstream(name + ".nii", std::ios::binary) << bytes;
        test::write_gzip(name + ".nii.gz", bytes);
        for (const std::string& file : {name + ".nii", name + ".nii.gz"}) {
          SCOPED_TRACE(file + " datatype " + std::to_string(datatype) + (big ? " big-endian" : "") + " slope " +
                       std::to_string(slope) + " inter " + std::to_string(inter));
          const Volume v = read_volume(file);
          const std::vector<float> itk = itk_voxels(file);
          const std::vector<float> raw = raw_as_float(read_raw_image(file));
          const std::vector<float> ours = v.voxels_as_float();
          ASSERT_EQ(ours.size(), itk.size());
          for (std::size_t n = 0; n < itk.size(); ++n) ASSERT_EQ(ours[n], itk[n]) << "voxel " << n;
          EXPECT_EQ(raw, itk);
          const double s = slope == 0.0f ? 1.0 : slope;
          // Integers scaled by whole numbers stay int16 in memory; fractional scaling and float types do not.
          const bool whole =
              datatype != 16 && datatype != 64 && slope == std::round(slope) && inter == std::round(inter);
          EXPECT_EQ(v.int16_voxels() != nullptr, whole);
          EXPECT_EQ(v.float_voxels() != nullptr, !whole);
          EXPECT_EQ(ours[5], static_cast<float>(static_cast<double>(f.voxels[5]) * s + inter));
          // Packed as read: the same values, packed exactly where they are int16.
          const Volume p = read_volume(file, packing());
          EXPECT_EQ(p.packed(), whole);
          EXPECT_EQ(p.voxels_as_float(), itk);
          EXPECT_EQ(p.geometry().origin, v.geometry().origin);
        }
      }
    }
  }
}

// int16 storage is kept only where every scaled value fits: unsigned 16-bit or 32-bit voxels beyond int16's range
// (or shifted beyond it by the intercept) are read as float, with their exact values.
TEST_F(Io, NiftiIntegersBeyondInt16AreReadAsFloat) {
  for (const auto& [datatype, value, inter, int16] :
       {std::tuple{512, 40000.0f, 0.0f, false}, std::tuple{512, 40000.0f, -10000.0f, true},
        std::tuple{8, -40000.0f, 0.0f, false}, std::tuple{8, -30000.0f, 0.0f, true},
        std::tuple{4, 30000.0f, 5000.0f, false}, std::tuple{512, 30000.0f, 0.0f, true}}) {
    SCOPED_TRACE("datatype " + std::to_string(datatype) + " value " + std::to_string(value) + " inter " +
                 std::to_string(inter));
    test::NiftiFile f;
    f.datatype = static_cast<std::int16_t>(datatype);
    f.scl_slope = 1.0f;
    f.scl_inter = inter;
    std::fill(f.voxels.begin(), f.voxels.end(), 0.0f);
    f.voxels[7] = value;
    test::write_gzip(path("range.nii.gz"), test::nifti_bytes(f));
    const Volume v = read_volume(path("range.nii.gz"));
    EXPECT_EQ(v.int16_voxels() != nullptr, int16);
    EXPECT_EQ(v.at(7), value + inter);
    EXPECT_EQ(v.at(0), inter);
    const Volume p = read_volume(path("range.nii.gz"), packing());  // packing stops at the value and reads float
    EXPECT_EQ(p.packed(), int16);
    EXPECT_EQ(p.voxels_as_float(), v.voxels_as_float());
  }
}

// A .nii.gz whose stream is several gzip members (concatenated files, some writers' blocks), or holds bytes after
// the voxels, reads like the plain file; a member whose CRC does not match is a damaged file.
TEST_F(Io, NiftiGzipStreamsOfSeveralMembersOrWithTrailingDataRead) {
  test::NiftiFile f;
  f.datatype = 4;  // int16, so the packed read streams the members too
  for (std::size_t n = 0; n < f.voxels.size(); ++n) f.voxels[n] = static_cast<float>(n) - 500.0f;
  const std::string bytes = test::nifti_bytes(f);
  const auto gzip_bytes = [&](const std::string& data) {
    test::write_gzip(path("member.gz"), data);
    std::ifstream in(path("member.gz"), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::ofstream(path("members.nii.gz"), std::ios::binary)
      << gzip_bytes(bytes.substr(0, 100)) << gzip_bytes(bytes.substr(100, 300)) << gzip_bytes(bytes.substr(400));
  test::write_gzip(path("trailing.nii.gz"), bytes + std::string(1000, 'x'));
  for (const char* name : {"members.nii.gz", "trailing.nii.gz"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(read_volume(path(name)).voxels_as_float(), f.voxels);
    const Volume packed = read_volume(path(name), packing());
    EXPECT_TRUE(packed.packed());
    EXPECT_EQ(packed.voxels_as_float(), f.voxels);
  }
  std::string damaged = gzip_bytes(bytes);
  damaged[damaged.size() - 6] ^= 0x40;  // the CRC32 of the trailer
  std::ofstream(path("crc.nii.gz"), std::ios::binary) << damaged;
  for (const ReadOptions& options : {ReadOptions{}, packing()}) {
    std::string message;
    EXPECT_EQ(read_status(path("crc.nii.gz"), &message, options), Status::io) << message;
    EXPECT_NE(message.find("damaged"), std::string::npos) << message;
  }
}

// read_volume packs an int16 volume of more voxel bytes than pack_above_bytes (a NIfTI file's as it is read,
// other formats' once read), and no smaller one; the default packs long scans only.
TEST_F(Io, Int16VolumesBeyondThePackingThresholdArePacked) {
  const Volume phantom = test::whole_hu_twins(small_phantom("LPS", 3.0)).second;
  const std::size_t bytes = phantom.voxel_count() * sizeof(std::int16_t);
  for (const char* name : {"t.nii.gz", "t.nii", "t.mha", "t.nrrd"}) {
    SCOPED_TRACE(name);
    write_volume(phantom, path(name));
    ReadOptions options;
    EXPECT_FALSE(read_volume(path(name), options).packed());
    options.pack_above_bytes = bytes;
    EXPECT_FALSE(read_volume(path(name), options).packed());
    options.pack_above_bytes = bytes - 1;
    const Volume packed = read_volume(path(name), options);
    EXPECT_TRUE(packed.packed());
    EXPECT_EQ(packed.voxels_as_float(), phantom.voxels_as_float());
    EXPECT_LT(packed.voxel_bytes(), bytes);
  }
}

TEST_F(Io, NiftiWithZeroSpacingNamesTheSpacing) {
  test::NiftiFile zero;
  zero.spacing[0] = 0.0f;
  std::ofstream(path("zero.nii"), std::ios::binary) << test::nifti_bytes(zero);
  std::string message;
  EXPECT_EQ(read_status(path("zero.nii"), &message), Status::invalid_argument) << message;
  EXPECT_NE(message.find("voxel spacing 0 mm along axis i (pixdim[1])"), std::string::npos) << message;
}

// Found by fuzz_volume: a NaN vox_offset reached a float-to-integer conversion (undefined behaviour), and a NaN in
// the sform made ITK's SVD assert, which ended the process.
TEST_F(Io, NiftiWithANanInItsHeaderIsADamagedHeader) {
  for (const auto& [offset, field] : {std::pair{108, "vox_offset"}, std::pair{280, "orientation"}}) {  // srow_x[0]
    test::NiftiFile file;
    std::string bytes = test::nifti_bytes(file);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(&bytes[offset], &nan, 4);
    const std::string name = path(std::string("nan_") + field + ".nii.gz");
    test::write_gzip(name, bytes);
    std::string message;
    EXPECT_EQ(read_status(name, &message), Status::io) << message;
    EXPECT_NE(message.find(field), std::string::npos) << message;
  }
}

// Found by fuzz_volume: headers slicenav's checks could not parse still reached ITK, which read one as Analyze and
// aborted on the NaN it computed from its sform. A header must say 348 bytes with a dim[0] of 1-7 in the same byte
// order; orientation values ITK would overflow on are a damaged header.
TEST_F(Io, NiftiHeadersSlicenavCannotParseNeverReachItk) {
  const std::string good = test::nifti_bytes(test::NiftiFile{});
  std::string size_92 = good;
  size_92[0] = 92, size_92[1] = 0;
  std::string dim0_swapped = good;
  std::swap(dim0_swapped[40], dim0_swapped[41]);  // dim[0] = 768: 3 only when read big-endian
  std::string huge_sform = good;
  const float huge = 1e20f;
  std::memcpy(&huge_sform[280], &huge, 4);  // srow_x[0]
  for (const auto& [name, bytes] : {std::pair{"size_92.nii", size_92}, std::pair{"dim0.nii", dim0_swapped},
                                    std::pair{"huge_sform.nii", huge_sform}}) {
    const std::string file = path(name);
    std::ofstream(file, std::ios::binary) << bytes;
    std::string message;
    EXPECT_EQ(read_status(file, &message), Status::io) << file << ": " << message;
    EXPECT_EQ(test::status_of([&] { read_raw_image(file); }), Status::io) << file;
  }
  std::ofstream(path("good.nii"), std::ios::binary) << good;
  EXPECT_NO_THROW(read_volume(path("good.nii")));
}

// nibabel's default header (sform code 2, qform code 0, the qform fields filled alike), which ITK 5.2 refuses for
// many origins ("No orthonormal definition found": it compares the two in float), is read from the sform, with a
// warning; a sheared sform is still refused.
TEST_F(Io, NiftiWithOnlyAnAlignedSformIsReadFromTheSform) {
  test::NiftiFile f;
  f.voxels[3] = 77.0f;
  f.spacing = {0.8f, 0.8f, 1.0f};
  std::string bytes = test::nifti_bytes(f);
  bytes[123] = 0;  // xyzt_units unknown, as nibabel leaves them
  const std::int16_t aligned = 2;
  std::memcpy(&bytes[254], &aligned, 2);
  const float srow[3][4] = {{-0.8f, 0, 0, 204.4f}, {0, -0.8f, 0, 204.4f}, {0, 0, 1.0f, -259.0f}};  // LPS axes, RAS rows
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) std::memcpy(&bytes[280 + 16 * r + 4 * c], &srow[r][c], 4);
  // The qform fields as nibabel fills them (the same rotation and offset), though its code says unknown.
  const float quatern_d = 1.0f, qoffset[3] = {204.4f, 204.4f, -259.0f};
  std::memcpy(&bytes[264], &quatern_d, 4);
  std::memcpy(&bytes[268], qoffset, 12);
  test::write_gzip(path("aligned.nii.gz"), bytes);
  const Volume v = read_volume(path("aligned.nii.gz"));
  EXPECT_EQ(v.voxels_as_float()[3], 77.0f);
  EXPECT_NEAR(v.geometry().spacing[0], 0.8, 1e-6);
  EXPECT_NEAR(v.geometry().spacing[1], 0.8, 1e-6);
  EXPECT_EQ(v.geometry().spacing[2], 1.0);
  EXPECT_NEAR(v.geometry().origin[0], -204.4, 1e-4);
  EXPECT_NEAR(v.geometry().origin[1], -204.4, 1e-4);
  EXPECT_EQ(v.geometry().origin[2], -259.0);
  EXPECT_EQ(orientation_code(v.geometry()), "LPS");
  ASSERT_EQ(v.source().warnings.size(), 1u);
  EXPECT_NE(v.source().warnings[0].find("sform (code 2)"), std::string::npos) << v.source().warnings[0];
  EXPECT_EQ(read_raw_image(path("aligned.nii.gz")).geometry.origin, v.geometry().origin);
  const float shear = 0.5f;
  std::memcpy(&bytes[280 + 4], &shear, 4);  // srow_x[1]
  test::write_gzip(path("sheared.nii.gz"), bytes);
  std::string message;
  EXPECT_EQ(read_status(path("sheared.nii.gz"), &message), Status::io) << message;
  EXPECT_NE(message.find("orthonormal"), std::string::npos) << message;
}

// A header whose sform is valid but whose pixdim is 0 (seen from scripts that edit pixdim only): the sform gives the
// geometry, as the NIfTI standard says, and the disagreement is a warning rather than silence.
TEST_F(Io, NiftiWithZeroPixdimButAValidSformWarns) {
  test::NiftiFile file;
  std::string bytes = test::nifti_bytes(file);
  std::memset(&bytes[80], 0, 4);  // pixdim[1]; the sform keeps 1 mm
  std::ofstream(path("sform.nii"), std::ios::binary) << bytes;
  const Volume v = read_volume(path("sform.nii"));
  EXPECT_EQ(v.geometry().spacing[0], 1.0);
  ASSERT_EQ(v.source().warnings.size(), 1u);
  EXPECT_NE(v.source().warnings[0].find("pixdim[1]"), std::string::npos) << v.source().warnings[0];
}

TEST_F(Io, FourDimensionalFileWithOneTimePointIsAVolume) {
  const std::string file =
      write_mhd("one_frame", "NDims = 4\nDimSize = 4 3 2 1\nElementType = MET_SHORT\n", std::string(48, '\0'));
  EXPECT_EQ(read_volume(file).geometry().size, (std::array<std::size_t, 3>{4, 3, 2}));
}

TEST_F(Io, OneSliceVolumeReadsWithAWarning) {
  const std::string file =
      write_mhd("single", "NDims = 3\nDimSize = 4 3 1\nElementType = MET_SHORT\n", std::string(24, '\0'));
  const Volume v = read_volume(file);
  ASSERT_EQ(v.source().warnings.size(), 1u);
  EXPECT_NE(v.source().warnings[0].find("single slice"), std::string::npos);
}

TEST_F(Io, ObliqueFileIsRejectedAndSlightlyObliqueWarns) {
  const double c30 = std::cos(30.0 * M_PI / 180.0), s30 = std::sin(30.0 * M_PI / 180.0);
  std::ostringstream oblique;
  oblique << "NDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\nTransformMatrix = 1 0 0 0 " << c30 << " " << s30
          << " 0 " << -s30 << " " << c30 << "\n";
  std::string message;
  EXPECT_EQ(read_status(write_mhd("oblique", oblique.str(), std::string(48, '\0')), &message),
            Status::unsupported_input);
  EXPECT_NE(message.find("oblique"), std::string::npos) << message;
  const double c3 = std::cos(3.0 * M_PI / 180.0), s3 = std::sin(3.0 * M_PI / 180.0);
  std::ostringstream slight;
  slight << "NDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\nTransformMatrix = 1 0 0 0 " << c3 << " " << s3
         << " 0 " << -s3 << " " << c3 << "\n";
  const Volume v = read_volume(write_mhd("slight", slight.str(), std::string(48, '\0')));
  ASSERT_EQ(v.source().warnings.size(), 1u);
  EXPECT_NE(v.source().warnings[0].find("oblique by 3"), std::string::npos) << v.source().warnings[0];
}

// Every real trunk CT: slice count and world z range (from the canonical mapping) match cases.tsv.
// Real scans of three regions: the voxels slicenav decodes are ITK's, bit for bit.
TEST(IoRealData, NiftiVoxelsAreItksOnRealScans) {
  for (const char* id : {"lidc_0003", "hnpetct_chus005", "pelvref_003"}) {
    SCOPED_TRACE(id);
    SLICENAV_REQUIRE_DATA(file, std::string("ct/") + id + "/ct.nii.gz");
    const Volume v = read_volume(file);
    const std::vector<float> itk = itk_voxels(file);
    EXPECT_TRUE(v.voxels_as_float() == itk);
    EXPECT_EQ(raw_as_float(read_raw_image(file)), itk);
  }
}

TEST(IoRealData, TrunkVolumesMatchTheCaseTable) {
  SLICENAV_REQUIRE_DATA(table, "cases.tsv");
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  {
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, '\t');) header.push_back(cell);
  }
  int checked = 0;
  while (std::getline(in, line)) {
    std::map<std::string, std::string> row;
    std::stringstream ss(line);
    std::size_t col = 0;
    for (std::string cell; std::getline(ss, cell, '\t') && col < header.size(); ++col) row[header[col]] = cell;
    if (row["set"] != "ct") continue;
    SCOPED_TRACE(row["case_id"]);
    const std::string file = test::data_path(row["path"] + "/ct.nii.gz");
    ASSERT_FALSE(file.empty());
    const Volume v = read_volume(file);
    EXPECT_EQ(v.source().pixel_type, "short");
    const CanonicalVolume c = canonicalize(v);
    const std::size_t n = c.mapping.slice_count();
    EXPECT_EQ(n, std::stoul(row["n_slices"]));
    EXPECT_NEAR(c.mapping.world_z(0), std::stod(row["z_max_mm"]), 1e-2);
    EXPECT_NEAR(c.mapping.world_z(static_cast<double>(n - 1)), std::stod(row["z_min_mm"]), 1e-2);
    // The data keeps DICOM storage order with k increasing superiorly: canonical slice 0 is the last.
    EXPECT_DOUBLE_EQ(c.mapping.original_slice(0), static_cast<double>(n - 1));
    ++checked;
  }
  EXPECT_GE(checked, 20);
}

}  // namespace slicenav
