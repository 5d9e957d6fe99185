#ifndef CLibPQ_SHIM_H
#define CLibPQ_SHIM_H
#include <postgresql/libpq-fe.h>
#endif
