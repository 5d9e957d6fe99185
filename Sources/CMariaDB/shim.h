#ifndef CMariaDB_SHIM_H
#define CMariaDB_SHIM_H
#include <mariadb/mysql.h>
#endif
