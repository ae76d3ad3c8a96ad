import CRuncrateModuleABI
import LuaBridge
import RuncrateLua

// The C entry points of libRuncrateLuaModule (see runcrate_module_abi.h). The executable calls them
// from its own Swift functions, so they run with Swift frames below them and never raise a Lua error:
// failures are returned.

/// The run's module; the executable has one Lua state.
nonisolated(unsafe) private var current: ModuleHookup?

@_cdecl("runcrate_module_install")
public func runcrateModuleInstall(_ L: LuaState?, _ options: UnsafePointer<runcrate_module_options>?, _ table: Int32) -> Int32 {
    guard let L else { return 1 }
    guard let o = options?.pointee, o.abi_version == RUNCRATE_MODULE_ABI_VERSION else {
        L.push("runcrate: the module library does not match this runcrate-lua (reinstall both from one build)")
        return 1
    }
    guard current == nil else {
        L.push("runcrate: the module is already installed")
        return 1
    }
    let settings = ModuleHookup.Options(o)
    do throws(LuaError) {
        current = try ModuleHookup(options: settings, into: L, table: table)
        return 0
    } catch {
        L.push(error.message)
        return 1
    }
}

@_cdecl("runcrate_module_keep_result")
public func runcrateModuleKeepResult(_ L: LuaState?, _ first: Int32, _ count: Int32) -> Int32 {
    guard let L, let current else { return 0 }
    return current.keepResults(from: first, count: count, in: L) ? 0 : 1
}

@_cdecl("runcrate_module_keep_error")
public func runcrateModuleKeepError(_ L: LuaState?, _ kind: UnsafePointer<CChar>?, _ report: UnsafePointer<CChar>?) {
    guard let L, let current else { return }
    current.keepError(kind: kind.map { String(cString: $0) } ?? "error", report: report.map { String(cString: $0) } ?? "", in: L)
}

@_cdecl("runcrate_module_finish")
public func runcrateModuleFinish(_ status: Int32) -> Int32 {
    guard let current else { return status }
    return current.finish(status: status)
}

@_cdecl("runcrate_module_exit_status")
public func runcrateModuleExitStatus(_ L: LuaState?) -> Int32 {
    guard let L, let current else { return -1 }
    return current.module.exitStatusOfLastError(in: L) ?? -1
}
