/* The one export macro of libbtfm's public API: everything else is built hidden. */
#ifndef BTFM_EXPORT_H
#define BTFM_EXPORT_H

#if defined(_WIN32) && !defined(BTFM_STATIC)
#  if defined(BTFM_BUILDING)
#    define BTFM_API __declspec(dllexport)
#  else
#    define BTFM_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define BTFM_API __attribute__((visibility("default")))
#else
#  define BTFM_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define BTFM_DEPRECATED __attribute__((deprecated))
#else
#  define BTFM_DEPRECATED
#endif

#endif
