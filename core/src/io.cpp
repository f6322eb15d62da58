#include "slicenav/io.hpp"

#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkImageIOBase.h>
#include <itkMetaImageIO.h>
#include <itkNiftiImageIO.h>
#include <itkNrrdImageIO.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <vector>

#include "atomic_file.hpp"
#include "image_headers.hpp"
#include "nifti.hpp"
#include "slicenav/dicom.hpp"
#include "slicenav/error.hpp"
#include "slicenav/orientation.hpp"
#include "text.hpp"

namespace slicenav {
namespace fs = std::filesystem;

bool detail::is_gzip_path(const std::string& path) {
  const std::string name = detail::lowercase(fs::path(path).filename().string());
  return name.size() >= 3 && name.compare(name.size() - 3, 3, ".gz") == 0;
}

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const char* kKnownFormats = ".nii, .nii.gz, .mha, .mhd, .nrrd, .nhdr or a DICOM series directory";

// ITK's image IO keeps process-wide state that two reads at once race on (ThreadSanitizer finds it in NIfTI
// header reading, tests/cli/prefetch_test.cpp): every use of an ITK ImageIO holds this lock. slicenav's own
// NIfTI voxel decoding and writing, the slow part of a read or write, run outside it.
std::mutex& itk_io_mutex() {
  static std::mutex mutex;
  return mutex;
}

itk::ImageIOBase::Pointer make_image_io(const std::string& format) {
  if (format == "nifti") return itk::NiftiImageIO::New().GetPointer();
  if (format == "metaimage") return itk::MetaImageIO::New().GetPointer();
  if (format == "nrrd") return itk::NrrdImageIO::New().GetPointer();
  return nullptr;
}

// ITK's messages carry file and line of the throw site; keep only the description.
std::string describe(const itk::ExceptionObject& e) {
  const std::string text = e.GetDescription();
  return text.empty() ? std::string(e.what()) : text;
}

template <typename T, typename Out>
void convert_voxels(const void* raw, std::size_t count, Out* out) {
  const T* in = static_cast<const T*>(raw);
  for (std::size_t n = 0; n < count; ++n) out[n] = static_cast<Out>(in[n]);
}

// Reads `bytes` bytes of voxel data (the whole image, as stored) through the ImageIO into `raw`.
void read_raw(itk::ImageIOBase& io, char* raw, std::size_t bytes) {
  itk::ImageIORegion region(io.GetNumberOfDimensions());
  for (unsigned d = 0; d < io.GetNumberOfDimensions(); ++d) {
    region.SetIndex(d, 0);
    region.SetSize(d, io.GetDimensions(d));
  }
  io.SetIORegion(region);
  // Some ITK readers return silently on a short file. Readers that fill our buffer directly leave
  // its last bytes untouched then: mark them (0xA5 bytes are int16 -23131 and float -2.9e-16, never CT
  // values) and check. NIfTI copies from its own buffer, so its payload size is checked separately.
  const std::size_t tail = std::min<std::size_t>(bytes, 16);
  std::memset(raw + bytes - tail, 0xA5, tail);
  io.Read(raw);
  if (std::all_of(raw + bytes - tail, raw + bytes, [](char c) { return c == static_cast<char>(0xA5); })) {
    fail(Status::io, "voxel data ends early (the file is truncated)");
  }
}

// Reads `count` components of the file's stored type through the ImageIO: 16-bit signed voxels straight into the
// volume's int16 storage, 8-bit ones converted to int16, any other type to float (holding the raw buffer and the
// converted one at once, never two float copies).
detail::VolumeVoxels read_itk_voxels(itk::ImageIOBase& io, std::size_t count) {
  using IOC = itk::IOComponentEnum;
  detail::VolumeVoxels voxels;
  const std::size_t bytes = count * io.GetComponentSize();
  if (io.GetComponentType() == IOC::SHORT) {
    const std::shared_ptr<std::int16_t> stored = allocate_voxels<std::int16_t>(count);
    read_raw(io, reinterpret_cast<char*>(stored.get()), bytes);
    voxels.int16 = stored;
    return voxels;
  }
  std::unique_ptr<char[]> raw(new char[bytes]);
  read_raw(io, raw.get(), bytes);
  if (io.GetComponentType() == IOC::UCHAR || io.GetComponentType() == IOC::CHAR) {
    const std::shared_ptr<std::int16_t> stored = allocate_voxels<std::int16_t>(count);
    if (io.GetComponentType() == IOC::UCHAR) {
      convert_voxels<std::uint8_t>(raw.get(), count, stored.get());
    } else {
      convert_voxels<std::int8_t>(raw.get(), count, stored.get());
    }
    voxels.int16 = stored;
    return voxels;
  }
  voxels.floats.resize(count);
  float* out = voxels.floats.data();
  switch (io.GetComponentType()) {
    case IOC::USHORT: convert_voxels<std::uint16_t>(raw.get(), count, out); break;
    case IOC::UINT: convert_voxels<std::uint32_t>(raw.get(), count, out); break;
    case IOC::INT: convert_voxels<std::int32_t>(raw.get(), count, out); break;
    case IOC::ULONG: convert_voxels<unsigned long>(raw.get(), count, out); break;
    case IOC::LONG: convert_voxels<long>(raw.get(), count, out); break;
    case IOC::ULONGLONG: convert_voxels<unsigned long long>(raw.get(), count, out); break;
    case IOC::LONGLONG: convert_voxels<long long>(raw.get(), count, out); break;
    case IOC::FLOAT: convert_voxels<float>(raw.get(), count, out); break;
    case IOC::DOUBLE: convert_voxels<double>(raw.get(), count, out); break;
    default:
      fail(Status::unsupported_input,
           "unsupported voxel component type " + itk::ImageIOBase::GetComponentTypeAsString(io.GetComponentType()));
  }
  return voxels;
}

// An image file opened and checked (3D scalar, valid spacing, enough voxel data), its voxels not yet read.
struct OpenedImage {
  itk::ImageIOBase::Pointer io;  // has read the header, except for NIfTI geometry read from the sform
  Geometry geometry;
  std::optional<detail::NiftiHeader> nifti;  // a NIfTI file's own header (its voxels never go through ITK)
  std::vector<std::string> warnings;
};

OpenedImage open_image_file_unguarded(const std::string& path, const std::string& format);

// open_image_file_unguarded, with any ITK exception it lets through (ITK throws from places as unlikely as a
// component size query) turned into an i/o error naming the file.
OpenedImage open_image_file(const std::string& path, const std::string& format) {
  const std::lock_guard<std::mutex> lock(itk_io_mutex());
  try {
    return open_image_file_unguarded(path, format);
  } catch (const itk::ExceptionObject& e) {
    fail(Status::io, "cannot read '" + path + "': " + describe(e));
  }
}

OpenedImage open_image_file_unguarded(const std::string& path, const std::string& format) {
  itk::ImageIOBase::Pointer io = make_image_io(format);
  const std::string kind = format == "nifti" ? "NIfTI" : format == "metaimage" ? "MetaImage" : "NRRD";
  std::optional<detail::MetaImageHeader> meta;  // read first: it refuses what MetaIO cannot read safely
  if (format == "metaimage") meta = detail::read_metaimage_header(path);
  const std::optional<detail::NiftiHeader> nifti = format == "nifti" ? detail::read_nifti_header(path) : std::nullopt;
  // A header slicenav cannot parse never reaches ITK, which reads some of them in the other byte order or as
  // Analyze and then aborts on what it computes from them.
  if ((format == "nifti" && !nifti) || !io->CanReadFile(path.c_str())) {
    fail(Status::io,
         "cannot read '" + path + "': not a readable " + kind + " file (damaged, truncated or another format)");
  }
  io->SetFileName(path);
  // ITK aborts the process on a NaN pixdim: refuse it first.
  if (const std::string pixdim = nifti ? detail::nifti_pixdim_problem(*nifti, false) : std::string(); !pixdim.empty()) {
    fail(Status::invalid_argument, "'" + path + "' has " + pixdim + ": spacing must be finite and > 0");
  }
  // ITK aborts the process on a non-finite orientation (its SVD asserts finite values): refuse it too.
  if (nifti && !nifti->orientation_finite) {
    fail(Status::io, "cannot read '" + path +
                         "': its NIfTI header's orientation (quaternion, offsets or sform "
                         "rows) holds a value that is not a finite number of at most 1e9 (damaged header)");
  }
  try {
    io->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    const std::string pixdim = nifti ? detail::nifti_pixdim_problem(*nifti) : std::string();
    if (!pixdim.empty())
      fail(Status::invalid_argument, "'" + path + "' has " + pixdim + ": spacing must be finite and > 0");
    if (const std::optional<Geometry> sform = nifti ? detail::nifti_sform_geometry(*nifti) : std::nullopt) {
      return {io,
              *sform,
              nifti,
              {"the NIfTI geometry was read from the sform (code " + std::to_string(nifti->sform_code) +
               "), which ITK reads only with code 1 or a matching qform"}};
    }
    fail(Status::io, "cannot read '" + path + "': " + describe(e));
  }
  const unsigned dims = io->GetNumberOfDimensions();
  std::ostringstream shape;
  for (unsigned d = 0; d < dims; ++d) shape << (d ? "x" : "") << io->GetDimensions(d);
  if (dims < 3 || (dims == 3 && io->GetDimensions(2) == 0)) {
    fail(Status::unsupported_input, "'" + path + "' is a " + std::to_string(dims) + "D image (" + shape.str() +
                                        "); slicenav needs a 3D CT volume");
  }
  for (unsigned d = 3; d < dims; ++d) {
    if (io->GetDimensions(d) != 1) {
      fail(Status::unsupported_input, "'" + path + "' is a " + std::to_string(dims) + "D image (" + shape.str() +
                                          "); slicenav needs a single 3D CT volume");
    }
  }
  if (io->GetComponentType() == itk::IOComponentEnum::UNKNOWNCOMPONENTTYPE) {
    fail(Status::unsupported_input, "'" + path + "' does not say its voxel type (or names one slicenav cannot read)");
  }
  if (io->GetNumberOfComponents() != 1) {
    fail(Status::unsupported_input, "'" + path + "' has " + std::to_string(io->GetNumberOfComponents()) +
                                        " components per voxel (" + io->GetPixelTypeAsString(io->GetPixelType()) +
                                        "); CT volumes must be scalar");
  }
  Geometry geometry;
  for (unsigned a = 0; a < 3; ++a) {
    geometry.size[a] = io->GetDimensions(a);
    geometry.spacing[a] = io->GetSpacing(a);
    geometry.origin[a] = io->GetOrigin(a);
    const std::vector<double> column = io->GetDirection(a);
    for (unsigned r = 0; r < 3; ++r) geometry.direction[3 * r + a] = column[r];
  }
  for (unsigned a = 0; a < 3; ++a) {
    if (!(geometry.spacing[a] > 0.0) || !std::isfinite(geometry.spacing[a])) {
      std::ostringstream msg;
      msg << "'" << path << "' has voxel spacing " << geometry.spacing[a] << " mm along axis "
          << "ijk"[a] << ": spacing must be finite and > 0";
      fail(Status::invalid_argument, msg.str());
    }
  }
  // NIfTI voxels are checked as they are read (read_nifti_voxels; read_raw_image).
  const std::size_t voxel_bytes = geometry.voxel_count() * io->GetComponentSize();
  if (meta) detail::check_metaimage_payload(path, *meta, voxel_bytes);
  if (format == "nrrd") detail::check_nrrd_payload(path, voxel_bytes);
  return {io, geometry, nifti, {}};
}

Volume read_image_file(const std::string& path, const std::string& format, std::size_t pack_above_bytes) {
  OpenedImage opened = open_image_file(path, format);
  itk::ImageIOBase::Pointer io = opened.io;
  const Geometry& geometry = opened.geometry;
  SourceInfo source;
  source.path = path;
  source.format = format;
  source.pixel_type = opened.nifti ? detail::nifti_component_name(opened.nifti->datatype)
                                   : itk::ImageIOBase::GetComponentTypeAsString(io->GetComponentType());
  const std::string pixdim = opened.nifti ? detail::nifti_pixdim_problem(*opened.nifti) : std::string();
  if (!pixdim.empty()) {
    source.warnings.push_back("the NIfTI header has " + pixdim + "; the spacing was taken from its sform matrix");
  }
  source.warnings.insert(source.warnings.end(), opened.warnings.begin(), opened.warnings.end());
  detail::VolumeVoxels voxels;
  if (opened.nifti) {
    voxels = detail::read_nifti_voxels(path, *opened.nifti, geometry.size, pack_above_bytes);  // messages name the file
  } else {
    try {
      const std::lock_guard<std::mutex> lock(itk_io_mutex());
      voxels = read_itk_voxels(*io, geometry.voxel_count());
    } catch (const itk::ExceptionObject& e) {
      fail(Status::io, "cannot read '" + path + "' (truncated or damaged?): " + describe(e));
    } catch (const Error& e) {
      fail(e.status(), "cannot read '" + path + "': " + e.what());
    }
  }
  try {
    return std::move(voxels).volume(geometry, std::move(source));
  } catch (const Error& e) {
    fail(e.status(), "'" + path + "': " + e.what());
  }
}

// ITK's writers do not all report a failed write (the NIfTI writer only prints "wrote only 0 of N bytes" when the
// disk is full): check that the file just written holds all its voxel data before it is renamed into place.
// `written` is the temporary file, `path` the output it becomes.
void check_written(const std::string& written, const std::string& path, const std::string& format,
                   std::size_t voxel_bytes) {
  try {
    if (format == "metaimage")
      detail::check_metaimage_payload(written, detail::read_metaimage_header(written), voxel_bytes);
    if (format == "nrrd") detail::check_nrrd_payload(written, voxel_bytes);
  } catch (const Error&) {
    fail(Status::io, "cannot write '" + path + "': the file written is incomplete (is the disk full?)");
  }
}

template <typename Pixel>
void write_with_itk(const Volume& volume, const std::string& format, const std::string& path) {
  using Image = itk::Image<Pixel, 3>;
  const Geometry& g = volume.geometry();
  auto image = Image::New();
  typename Image::RegionType region;
  typename Image::SpacingType spacing;
  typename Image::PointType origin;
  typename Image::DirectionType direction;
  for (unsigned a = 0; a < 3; ++a) {
    region.SetSize(a, g.size[a]);
    spacing[a] = g.spacing[a];
    origin[a] = g.origin[a];
    for (unsigned c = 0; c < 3; ++c) direction(a, c) = g.direction[3 * a + c];
  }
  image->SetRegions(region);
  image->SetSpacing(spacing);
  image->SetOrigin(origin);
  image->SetDirection(direction);
  image->Allocate();
  Pixel* out = image->GetBufferPointer();
  for (std::size_t n = 0; n < volume.voxel_count(); ++n) {
    const float v = volume.at(n);
    *out++ = static_cast<Pixel>(std::is_integral<Pixel>::value ? std::lround(v) : v);
  }

  auto writer = itk::ImageFileWriter<Image>::New();
  writer->SetImageIO(make_image_io(format));
  writer->SetFileName(path);
  writer->SetInput(image);
  writer->SetUseCompression(true);
  const std::lock_guard<std::mutex> lock(itk_io_mutex());
  try {
    writer->Update();
  } catch (const itk::ExceptionObject& e) {
    fail(Status::io, "cannot write '" + path + "': " + describe(e));
  }
}

struct Int16Fit {
  bool in_range = true;  // every value rounds into int16
  bool integral = true;  // every value is already an integer
};

Int16Fit int16_fit(const Volume& volume) {
  Int16Fit fit;
  if (volume.float_voxels() == nullptr) return fit;  // int16, packed or not
  for (std::size_t n = 0; n < volume.voxel_count(); ++n) {
    const float v = volume.float_voxels()[n];
    fit.integral = fit.integral && v == std::nearbyint(v);
    fit.in_range = fit.in_range && v >= std::numeric_limits<std::int16_t>::min() - 0.5f &&
                   v < std::numeric_limits<std::int16_t>::max() + 0.5f;
  }
  return fit;
}

}  // namespace

std::string format_for_path(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return "dicom";
  const std::string name = detail::lowercase(fs::path(path).filename().string());
  if (ends_with(name, ".nii") || ends_with(name, ".nii.gz")) return "nifti";
  if (ends_with(name, ".mha") || ends_with(name, ".mhd")) return "metaimage";
  if (ends_with(name, ".nrrd") || ends_with(name, ".nhdr")) return "nrrd";
  return {};
}

namespace {

// The format of an existing input path; throws for an empty path, a missing one or an unknown extension.
std::string input_format(const std::string& path) {
  std::error_code ec;
  if (path.empty()) fail(Status::invalid_argument, "no input path given");
  if (!fs::exists(path, ec)) fail(Status::not_found, "'" + path + "' does not exist");
  const std::string format = format_for_path(path);
  if (format.empty()) {
    fail(Status::unsupported_input, "'" + path + "' has an unknown extension: slicenav reads " + kKnownFormats);
  }
  return format;
}

// The format of an output path; throws Error(unsupported_input) unless it is a single-file format.
std::string output_format(const std::string& path) {
  const std::string name = detail::lowercase(fs::path(path).filename().string());
  const std::string format = format_for_path(path);
  if (format.empty() || format == "dicom" || ends_with(name, ".mhd") || ends_with(name, ".nhdr")) {
    fail(Status::unsupported_input,
         "cannot write '" + path + "': slicenav writes single-file .nii, .nii.gz, .mha or .nrrd volumes");
  }
  return format;
}

}  // namespace

void check_gzip_level(int level) {
  if (level < 0 || level > 12) {
    fail(Status::invalid_argument,
         "gzip level " + std::to_string(level) + " is outside 0-12 (0 = no compression, 12 = smallest)");
  }
}

Volume read_volume(const std::string& path, const ReadOptions& options) {
  const std::string format = input_format(path);
  options.progress.at(0.0);
  Volume volume =
      format == "dicom" ? read_dicom_series(path, options) : read_image_file(path, format, options.pack_above_bytes);
  // NIfTI voxels were packed as they were read; other formats' are packed once read.
  if (!volume.packed() && volume.float_voxels() == nullptr && volume.voxel_bytes() > options.pack_above_bytes) {
    volume = pack_voxels(volume);
  }
  auto& warnings = volume.source().warnings;
  try {
    for (auto& w : orientation_warnings(volume.geometry())) warnings.push_back(std::move(w));
  } catch (const Error& e) {
    fail(e.status(), "'" + path + "': " + e.what());
  }
  if (SliceMapping(volume.geometry(), canonical_axis_map(volume.geometry())).slice_count() == 1) {
    warnings.push_back("volume has a single slice: slice-level navigation needs context along z");
  }
  return volume;
}

void write_volume(const Volume& volume, const std::string& path, PixelType pixel_type, int gzip_level) {
  check_gzip_level(gzip_level);
  const std::string format = output_format(path);
  if (volume.empty()) fail(Status::invalid_argument, "cannot write '" + path + "': the volume is empty");
  const Int16Fit fit = int16_fit(volume);
  if (pixel_type == PixelType::int16 && !fit.in_range) {
    fail(Status::invalid_argument, "cannot write '" + path + "' as int16: the volume has values outside int16 range");
  }
  const bool as_int16 =
      pixel_type == PixelType::int16 || (pixel_type == PixelType::automatic && fit.integral && fit.in_range);
  detail::write_atomically(path, [&](const std::string& temp) {
    if (format == "nifti") {
      // slicenav's own writer: the disk's answer to every write is checked, so the file needs no reading back.
      const std::size_t count = volume.voxel_count();
      const bool compressed = detail::is_gzip_path(path);
      if (volume.float_voxels() == nullptr && as_int16) {  // written as stored (a packed volume unpacked)
        detail::write_nifti(temp, path, compressed, volume.geometry(), 4,
                            reinterpret_cast<const unsigned char*>(volume.int16_voxels()), count * sizeof(std::int16_t),
                            gzip_level);
      } else if (as_int16) {
        std::vector<std::int16_t> stored(count);
        std::transform(volume.float_voxels(), volume.float_voxels() + count, stored.begin(),
                       [](float x) { return static_cast<std::int16_t>(std::lround(x)); });
        detail::write_nifti(temp, path, compressed, volume.geometry(), 4,
                            reinterpret_cast<const unsigned char*>(stored.data()), count * sizeof(std::int16_t),
                            gzip_level);
      } else {
        std::vector<float> converted;  // only for an int16 volume asked for as float
        const float* v = volume.float_voxels();
        if (v == nullptr) v = (converted = volume.voxels_as_float()).data();
        detail::write_nifti(temp, path, compressed, volume.geometry(), 16, reinterpret_cast<const unsigned char*>(v),
                            count * sizeof(float), gzip_level);
      }
      return;
    }
    if (as_int16) {
      write_with_itk<std::int16_t>(volume, format, temp);
    } else {
      write_with_itk<float>(volume, format, temp);
    }
    check_written(temp, path, format, volume.voxel_count() * (as_int16 ? sizeof(std::int16_t) : sizeof(float)));
  });
}

RawImage read_raw_image(const std::string& path) {
  const std::string format = input_format(path);
  if (format == "dicom") fail(Status::unsupported_input, "'" + path + "' is a directory, not an image file");
  OpenedImage opened = open_image_file(path, format);
  RawImage image;
  image.geometry = opened.geometry;
  try {
    image.geometry.validate();
  } catch (const Error& e) {
    fail(e.status(), "cannot read '" + path + "': " + e.what());
  }
  if (opened.nifti) {
    detail::NiftiRaw raw = detail::read_nifti_raw(path, *opened.nifti, image.geometry.voxel_count());
    image.component_type = std::move(raw.component_type);
    image.component_size = raw.component_size;
    image.bytes = std::move(raw.bytes);
    return image;
  }
  image.component_type = itk::ImageIOBase::GetComponentTypeAsString(opened.io->GetComponentType());
  image.component_size = opened.io->GetComponentSize();
  try {
    image.bytes.resize(image.geometry.voxel_count() * image.component_size);
    const std::lock_guard<std::mutex> lock(itk_io_mutex());
    read_raw(*opened.io, reinterpret_cast<char*>(image.bytes.data()), image.bytes.size());
  } catch (const itk::ExceptionObject& e) {
    fail(Status::io, "cannot read '" + path + "' (truncated or damaged?): " + describe(e));
  } catch (const Error& e) {
    fail(e.status(), "cannot read '" + path + "': " + e.what());
  }
  return image;
}

void write_raw_image(const RawImage& image, const std::string& path, int gzip_level) {
  check_gzip_level(gzip_level);
  const std::string format = output_format(path);
  const Geometry& g = image.geometry;
  g.validate();
  itk::ImageIOBase::Pointer io = make_image_io(format);
  const auto type = itk::ImageIOBase::GetComponentTypeFromString(image.component_type);
  io->SetComponentType(type);
  if (type == itk::IOComponentEnum::UNKNOWNCOMPONENTTYPE || io->GetComponentSize() != image.component_size) {
    fail(Status::invalid_argument, "cannot write '" + path + "': unknown voxel type '" + image.component_type + "'");
  }
  if (image.bytes.size() != g.voxel_count() * image.component_size) {
    fail(Status::invalid_argument, "cannot write '" + path + "': " + std::to_string(image.bytes.size()) +
                                       " bytes of voxels do not fill the grid");
  }
  detail::write_atomically(path, [&](const std::string& temp) {
    if (format == "nifti") {
      detail::write_nifti(temp, path, detail::is_gzip_path(path), g, detail::nifti_datatype_of(image.component_type),
                          image.bytes.data(), image.bytes.size(), gzip_level);
      return;
    }
    const std::lock_guard<std::mutex> lock(itk_io_mutex());
    io->SetNumberOfDimensions(3);
    itk::ImageIORegion region(3);
    for (unsigned a = 0; a < 3; ++a) {
      io->SetDimensions(a, g.size[a]);
      io->SetSpacing(a, g.spacing[a]);
      io->SetOrigin(a, g.origin[a]);
      io->SetDirection(a, std::vector<double>{g.direction[a], g.direction[3 + a], g.direction[6 + a]});
      region.SetIndex(a, 0);
      region.SetSize(a, g.size[a]);
    }
    io->SetPixelType(itk::IOPixelEnum::SCALAR);
    io->SetNumberOfComponents(1);
    io->SetIORegion(region);
    io->SetUseCompression(true);
    io->SetFileName(temp);
    try {
      io->WriteImageInformation();
      io->Write(image.bytes.data());
    } catch (const itk::ExceptionObject& e) {
      fail(Status::io, "cannot write '" + path + "': " + describe(e));
    }
    check_written(temp, path, format, image.bytes.size());
  });
}

}  // namespace slicenav
