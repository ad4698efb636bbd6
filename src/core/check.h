// CAIRN_CHECK: a broken invariant is a bug; abort with a message.
#pragma once

#include <cstdio>
#include <cstdlib>

#define CAIRN_CHECK(cond)                                                            \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)
