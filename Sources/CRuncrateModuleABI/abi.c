/* CRuncrateModuleABI is its header (include/runcrate_module_abi.h); SwiftPM wants one source file. */
#include "runcrate_module_abi.h"
