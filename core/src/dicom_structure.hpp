// The structure of a DICOM file, checked before GDCM reads it.
//
// GDCM, as Debian builds it (assertions on), aborts the process on some malformed files, and allocates whatever a
// data element's length field claims (4 GiB for a file of a few KiB). dicom_structure walks every data
// element the way a DICOM parser does (PS3.5 section 7, PS3.10 section 7.1) without reading values into memory, so
// that GDCM is only given files whose structure it can parse.
#pragma once

#include <filesystem>
#include <string>

namespace slicenav {

enum class DicomStructure {
  sound,      // GDCM may read it
  truncated,  // sound, but its pixel data runs past the end of the file (a copy cut short)
  damaged,    // malformed: not to be given to GDCM
};

// The structure of one file:
// - with the "DICM" preamble, a file meta group in explicit VR little endian, tags ascending, known VRs; without
//   one, a data set in implicit VR little endian from the first byte (an old-style file; explicit VR is tried too);
// - in the data set (the transfer syntax's VR and byte order; a deflated data set is not walked), every defined
//   length within its file, sequence or item; sequences and items of undefined length closed by their delimiters;
//   nesting at most 16 deep; encapsulated pixel data in fragments of defined length;
// - every SamplesPerPixel is 1, 3 or 4, and the image's PhotometricInterpretation is MONOCHROME1/2, RGB or YBR_*.
// Files larger than 64 MiB are walked up to their first 64 MiB. `detail`, when given, receives what is wrong.
DicomStructure dicom_structure(const std::filesystem::path& path, std::string* detail = nullptr);

}  // namespace slicenav
