#include "dicom_structure.hpp"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <set>
#include <string>
#include <system_error>
#include <vector>

namespace slicenav {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMaxWalkBytes = std::uint64_t{64} << 20;
constexpr int kMaxDepth = 16;
// Pixel data running past the end of its file is a truncated copy when it claims at most this much, else damage.
constexpr std::uint32_t kMaxTruncatedPixelBytes = std::uint32_t{64} << 20;
constexpr std::uint32_t kUndefinedLength = 0xffffffffu;
constexpr std::uint32_t kItem = 0xfffee000u;
constexpr std::uint32_t kItemEnd = 0xfffee00du;
constexpr std::uint32_t kSequenceEnd = 0xfffee0ddu;
constexpr std::uint32_t kPixelData = 0x7fe00010u;
constexpr std::uint32_t kSamplesPerPixel = 0x00280002u;
constexpr std::uint32_t kTransferSyntax = 0x00020010u;
constexpr std::uint32_t kPhotometric = 0x00280004u;

// The photometric interpretations of a top-level image that GDCM decodes without a palette (PS3.3 C.7.6.3.1.2).
const std::set<std::string> kPhotometricModels = {"MONOCHROME1",     "MONOCHROME2",  "RGB",
                                                  "YBR_FULL",        "YBR_FULL_422", "YBR_PARTIAL_420",
                                                  "YBR_PARTIAL_422", "YBR_ICT",      "YBR_RCT"};

// `text` with bytes outside printable ASCII shown as '?', for messages.
std::string printable(std::string text) {
  for (char& c : text) c = c >= 32 && c < 127 ? c : '?';
  return text;
}

// Explicit VR encodings: VRs with a 2-byte length, and VRs with 2 reserved bytes and a 4-byte length (PS3.5 7.1.2).
const std::set<std::string> kShortVrs = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO",
                                         "LT", "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"};
const std::set<std::string> kLongVrs = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};

// ok: well formed so far; bad: malformed; done: the walk ended early and soundly (at
// the end of the walked part of a very large file).
enum class Step { ok, bad, done };

struct Element {
  std::uint32_t tag = 0;
  std::string vr;  // empty in implicit VR, and for items and delimiters
  std::uint32_t length = 0;
  std::uint64_t value_at = 0;
};

class Walker {
 public:
  explicit Walker(const fs::path& path) : file_(path, std::ios::binary) {
    std::error_code ec;
    size_ = fs::file_size(path, ec);
    if (ec || !file_) size_ = 0;
    limit_ = std::min(size_, kMaxWalkBytes);
  }

  DicomStructure structure(std::string* detail) {
    bool sound = false;
    if (size_ == 0) {
      problem_ = "empty or unreadable file";
    } else if (load(128, 4) && std::equal(bytes_.begin() + 128, bytes_.begin() + 132, "DICM")) {
      sound = sound_with_meta();
    } else {
      // An old-style file: a data set from the first byte, implicit VR little endian (or explicit, which GDCM
      // detects).
      for (const bool implicit : {true, false}) {
        std::uint64_t at = 0;
        sound = sound || data_set(at, size_, implicit, 0, false) != Step::bad;
      }
    }
    if (sound) return DicomStructure::sound;
    if (detail != nullptr) *detail = problem_;
    return truncated_ ? DicomStructure::truncated : DicomStructure::damaged;
  }

 private:
  bool sound_with_meta() {
    std::uint64_t at = 132;
    std::uint32_t previous = 0;
    std::string syntax;
    int count = 0;
    while (load(at, 8) && u16(at) == 0x0002) {  // the file meta group: explicit VR little endian, tags ascending
      Element e;
      if (!element(at, false, e) || e.length == kUndefinedLength || e.tag <= previous ||
          e.value_at + e.length > size_) {
        problem_ = "malformed file meta group at byte " + std::to_string(at);
        return false;
      }
      if (e.tag == kTransferSyntax) {
        if (e.length > 64 || !load(e.value_at, e.length)) return false;
        syntax.assign(bytes_.begin() + static_cast<std::ptrdiff_t>(e.value_at),
                      bytes_.begin() + static_cast<std::ptrdiff_t>(e.value_at + e.length));
        syntax.erase(syntax.find_last_not_of(std::string(" \0", 2)) + 1);
      }
      previous = e.tag;
      at = e.value_at + e.length;
      ++count;
    }
    if (count == 0) {
      problem_ = "no file meta group after the DICM preamble";
      return false;
    }
    if (syntax == "1.2.840.10008.1.2.1.99") return true;  // deflated: GDCM inflates the data set itself
    big_endian_ = syntax == "1.2.840.10008.1.2.2";
    return data_set(at, size_, syntax == "1.2.840.10008.1.2", 0, false) != Step::bad;
  }

  // Loads bytes [at, at + n) of the walked part of the file; false past it.
  bool load(std::uint64_t at, std::uint64_t n) {
    if (at + n > limit_) return false;
    if (at + n > bytes_.size()) {
      const std::uint64_t old = bytes_.size();
      const std::uint64_t want = std::min(limit_, std::max(at + n, 2 * old + 65536));
      bytes_.resize(want);
      file_.clear();
      file_.seekg(static_cast<std::streamoff>(old));
      file_.read(reinterpret_cast<char*>(bytes_.data() + old), static_cast<std::streamsize>(want - old));
      bytes_.resize(old + static_cast<std::uint64_t>(std::max<std::streamsize>(0, file_.gcount())));
    }
    return at + n <= bytes_.size();
  }
  // What a failed load of [at, at + n) means: past the walked part of a file larger than it, done; else malformed.
  Step past(std::uint64_t at, std::uint64_t n) const {
    return at + n > limit_ && limit_ < size_ ? Step::done : Step::bad;
  }

  unsigned u16(std::uint64_t at) const {
    const unsigned a = bytes_[at], b = bytes_[at + 1];
    return big_endian_ ? (a << 8 | b) : (a | b << 8);
  }
  std::uint32_t u32(std::uint64_t at) const {
    return big_endian_ ? (std::uint32_t{u16(at)} << 16 | u16(at + 2)) : (u16(at) | std::uint32_t{u16(at + 2)} << 16);
  }
  std::uint32_t tag(std::uint64_t at) const { return std::uint32_t{u16(at)} << 16 | u16(at + 2); }

  // The element header at `at` (its bytes loaded by the caller up to at + 8); false for an unknown explicit VR.
  bool element(std::uint64_t at, bool implicit, Element& e) {
    e.tag = tag(at);
    if (implicit || (e.tag >> 16) == 0xfffe) {
      e.vr.clear();
      e.length = u32(at + 4);
      e.value_at = at + 8;
      return true;
    }
    e.vr.assign(reinterpret_cast<const char*>(&bytes_[at + 4]), 2);
    if (kShortVrs.count(e.vr)) {
      e.length = u16(at + 6);
      e.value_at = at + 8;
      return true;
    }
    if (!kLongVrs.count(e.vr) || !load(at, 12)) return false;
    e.length = u32(at + 8);
    e.value_at = at + 12;
    return true;
  }

  // The elements from `at` to `end` (a defined length's end), or to the item delimiter when `until_item_end`.
  // GDCM asserts on a file meta element that repeats an earlier one, also in an old-style file whose data set
  // begins with group 0002, on a file with no element beyond group 0002, and on a file that ends inside an element
  // header: all are malformed here.
  Step data_set(std::uint64_t& at, std::uint64_t end, bool implicit, int depth, bool until_item_end) {
    std::uint32_t previous_meta = 0;
    bool data = false;  // an element outside group 0002 seen
    while (true) {
      if (!until_item_end && at == end) return data || depth > 0 ? Step::ok : Step::bad;
      if (at + 8 > end) return Step::bad;
      if (!load(at, 8)) return past(at, 8);
      Element e;
      if (!element(at, implicit, e)) return Step::bad;
      if (e.tag == kItemEnd) {
        if (!until_item_end || e.length != 0) return Step::bad;
        at = e.value_at;
        return Step::ok;
      }
      if ((e.tag >> 16) == 0xfffe) return Step::bad;
      if (depth == 0 && (e.tag >> 16) == 0x0002) {
        if (e.tag <= previous_meta) return Step::bad;
        previous_meta = e.tag;
      }
      data = data || (e.tag >> 16) != 0x0002;
      if (e.tag == kPixelData && depth == 0) {  // elements after it (padding) are walked too: GDCM reads them
        if (e.length != kUndefinedLength && e.value_at + e.length > size_) {
          // A copy cut short, unless the claim is beyond any image (GDCM's scanner allocates what it claims).
          truncated_ = e.length <= kMaxTruncatedPixelBytes;
          problem_ = "its pixel data needs " + std::to_string(e.length) + " bytes from offset " +
                     std::to_string(e.value_at) + " but the file ends at " + std::to_string(size_);
          return Step::bad;
        }
        if (const Step step = value(e, at, end, implicit, depth); step != Step::ok) return step;
        if (end - at < 8 && load(at, end - at) &&
            std::all_of(bytes_.begin() + static_cast<std::ptrdiff_t>(at),
                        bytes_.begin() + static_cast<std::ptrdiff_t>(end), [](unsigned char b) { return b == 0; })) {
          at = end;  // a few zero bytes of padding after the pixel data
        }
        continue;
      }
      if (const Step step = value(e, at, end, implicit, depth); step != Step::ok) return step;
    }
  }

  // Checks the value of element `e` and moves `at` past it.
  Step value(const Element& e, std::uint64_t& at, std::uint64_t end, bool implicit, int depth) {
    if (e.length == kUndefinedLength) {
      at = e.value_at;
      if (e.tag == kPixelData) return sequence(at, end, implicit, depth + 1, true, true);  // encapsulated fragments
      if (!implicit && e.vr != "SQ" && e.vr != "UN") return Step::bad;
      return sequence(at, end, implicit || e.vr == "UN", depth + 1, true, false);
    }
    const std::uint64_t value_end = e.value_at + e.length;
    if (value_end > end) return Step::bad;
    const bool items_follow = e.tag != kPixelData && e.length >= 8 && (implicit || e.vr == "SQ") &&
                              load(e.value_at, 8) && tag(e.value_at) == kItem;
    if ((!implicit && e.vr == "SQ") || items_follow) {
      at = e.value_at;
      return sequence(at, value_end, implicit, depth + 1, false, false);
    }
    if (e.tag == kPhotometric && depth == 0) {  // GDCM asserts on a model it does not know, and on a palette
      if (e.length > 64) return Step::bad;
      if (!load(e.value_at, e.length)) return past(e.value_at, e.length);
      std::string model(reinterpret_cast<const char*>(&bytes_[e.value_at]), e.length);
      model.erase(model.find_last_not_of(std::string(" \0", 2)) + 1);
      if (!kPhotometricModels.count(model)) {
        problem_ = "PhotometricInterpretation '" + printable(model) + "' is not a grayscale, RGB or YBR model";
        return Step::bad;
      }
    }
    if (e.tag == kSamplesPerPixel && e.length == 2) {
      if (!load(e.value_at, 2)) return past(e.value_at, 2);
      const unsigned samples = u16(e.value_at);
      if (samples != 1 && samples != 3 && samples != 4) return Step::bad;
    }
    at = value_end;
    return Step::ok;
  }

  // Items up to `end` (a defined length's end), or to the sequence delimiter when `undefined`. Items hold data sets,
  // or bytes of defined length when they are `fragments` of encapsulated pixel data.
  Step sequence(std::uint64_t& at, std::uint64_t end, bool implicit, int depth, bool undefined, bool fragments) {
    if (depth > kMaxDepth) return Step::bad;
    while (true) {
      if (!undefined && at == end) return Step::ok;
      if (at + 8 > end) return Step::bad;
      if (!load(at, 8)) return past(at, 8);
      const std::uint32_t t = tag(at), length = u32(at + 4);
      at += 8;
      if (t == kSequenceEnd) return undefined && length == 0 ? Step::ok : Step::bad;
      if (t != kItem) return Step::bad;
      if (fragments) {
        if (length == kUndefinedLength) return Step::bad;
        if (at + length > end) {
          truncated_ = at + length > size_;
          problem_ = "a fragment of its pixel data runs past the end of the file";
          return Step::bad;
        }
        at += length;
      } else if (length == kUndefinedLength) {
        if (const Step step = data_set(at, end, implicit, depth, true); step != Step::ok) return step;
      } else {
        if (at + length > end) return Step::bad;
        if (const Step step = data_set(at, at + length, implicit, depth, false); step != Step::ok) return step;
      }
    }
  }

  std::ifstream file_;
  std::uint64_t size_ = 0;
  std::uint64_t limit_ = 0;
  std::vector<unsigned char> bytes_;
  bool big_endian_ = false;
  bool truncated_ = false;
  std::string problem_ = "malformed data elements";
};

}  // namespace

DicomStructure dicom_structure(const fs::path& path, std::string* detail) { return Walker(path).structure(detail); }

}  // namespace slicenav
