/* Declarations of the deliberately bad fixture libraries of the export check, so that
 * each bad library has exactly the one defect its test is about. */
#ifndef BTFM_BAD_EXPORT_H
#define BTFM_BAD_EXPORT_H

#define BAD_API __attribute__((visibility("default")))

BAD_API int btfm_ok(void);
BAD_API int helper_leak(void);
BAD_API int btfm_unlisted(void);

#endif
