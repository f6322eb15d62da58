// Debian's ITK 5.2 was configured with GCC, and its generated itk_compiler_detection.h stops any other compiler
// with #error. Clang builds (fuzzing, sanitizers) pre-include this file (-include): it reads that header once as
// GCC 12 would, then restores clang's own macros. Clang accepts every GCC feature the header then announces.
#if defined(__cplusplus) && defined(__clang__) && __has_include(<itk_compiler_detection.h>)
#  pragma clang diagnostic push
#  pragma clang diagnostic ignored "-Wbuiltin-macro-redefined"
#  pragma push_macro("__clang__")
#  pragma push_macro("__GNUC__")
#  pragma push_macro("__GNUC_MINOR__")
#  undef __clang__
#  undef __GNUC__
#  undef __GNUC_MINOR__
#  define __GNUC__ 12
#  define __GNUC_MINOR__ 2
#  include <itk_compiler_detection.h>
#  pragma pop_macro("__GNUC_MINOR__")
#  pragma pop_macro("__GNUC__")
#  pragma pop_macro("__clang__")
#  pragma clang diagnostic pop
#endif
