#ifndef CLUASHIM_H
#define CLUASHIM_H
#include "../../CLua/shim.h"
#endif
