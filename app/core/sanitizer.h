// STILLONTIME_SANITIZER_BUILD is 1 when AddressSanitizer or ThreadSanitizer is
// compiled in, under g++ (__SANITIZE_*__) and clang (__has_feature) alike.
#pragma once

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define STILLONTIME_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define STILLONTIME_SANITIZER_BUILD 1
#endif
#endif
#ifndef STILLONTIME_SANITIZER_BUILD
#define STILLONTIME_SANITIZER_BUILD 0
#endif
