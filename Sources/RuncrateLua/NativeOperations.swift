import LuaBridge

/// The module's native functions, one per operation, registered from this table (as a `luaL_Reg`
/// array is) into `native.ops`; the prelude binds each with one loop. Every function answers
/// `true, result` or `false, errinfo` and never raises: the prelude raises the error object at the
/// script's line.
extension RuncrateModule {
    typealias Operation = @Sendable (RuncrateModule) -> (LuaState) throws(ErrorInfo) -> Void

    static let operations: [(name: String, run: Operation)] = [
        ("create_instance", { m in { L throws(ErrorInfo) in try m.createInstance(L) } }),
        ("launch_attempt", { m in { L throws(ErrorInfo) in try m.createInstance(L, failover: true) } }),
        ("validate_instance", { m in m.validateInstance }),
        ("launch_plan", { m in m.launchPlan }),
        ("instances", { m in m.instances }),
        ("instance", { m in m.instance }),
        ("instance_status", { m in m.instanceStatus }),
        ("update_instance", { m in m.updateInstance }),
        ("delete_instance", { m in m.deleteInstance }),
        ("instance_types", { m in m.instanceTypes }),
        ("ssh_keys", { m in m.sshKeys }),
        ("create_ssh_key", { m in m.createSSHKey }),
        ("delete_ssh_key", { m in m.deleteSSHKey }),
        ("volumes", { m in m.volumes }),
        ("volume", { m in m.volume }),
        ("create_volume", { m in m.createVolume }),
        ("resize_volume", { m in m.resizeVolume }),
        ("delete_volume", { m in m.deleteVolume }),
        ("volume_regions", { m in m.volumeRegions }),
        ("templates", { m in m.templates }),
        ("environments", { m in m.environments }),
        ("create_environment", { m in m.createEnvironment }),
        ("balance", { m in m.balance }),
    ]

    /// Pushes `native.ops`: name -> function.
    func pushOperations(_ L: LuaState) {
        L.newtable(narr: 0, nrec: Int32(Self.operations.count))
        for (name, run) in Self.operations {
            let body = run(self)
            L.push(function: { [unowned self] L in self.dispatch(L, body) }, name: name)
            L.rawset(-2, field: name)
        }
    }

    /// Runs one operation: its result after `true`, or `false` and the errinfo (converted once, here).
    private func dispatch(_ L: LuaState, _ body: (LuaState) throws(ErrorInfo) -> Void) -> Int32 {
        let top = L.gettop()
        // A call cut short by the time limit (the transport's probe cancels it) ends as the
        // timeout: the hook raises it at the next instruction, whatever this call answers.
        defer { _ = L.stopRequested() }
        do throws(ErrorInfo) {
            try body(L)
            L.push(true)
            L.insert(-2)
            return 2
        } catch {
            L.settop(top)
            L.push(false)
            pushErrorInfo(answeringInterrupt(error, L), L)
            return 2
        }
    }

    /// A call that failed while Ctrl-C was pending (a cancelled request, mostly) answers the Ctrl-C:
    /// its error becomes `interrupted`, raised by the prelude at the script's line. The interrupt is
    /// consumed here; if it stayed pending, the hook would raise it inside the prelude instead.
    private func answeringInterrupt(_ error: ErrorInfo, _ L: LuaState) -> ErrorInfo {
        guard L.interruptPending else { return error }
        L.consumeInterrupt()
        var info = error
        info.code = "interrupted"
        info.retryable = false
        info.message = error.code == "cancelled" || error.code == "interrupted"
            ? "interrupted by Ctrl-C" : "interrupted by Ctrl-C (\(error.code): \(error.message))"
        return info
    }
}
