import LuaBridge
import Testing
@testable import RuncrateLua

/// Issue 9's breaks of the contract that live in the module: misspelt launch candidates and fields,
/// unknown statuses and filters, stale instance tables, retry rounds, the SSH command line.
@Suite struct FoundInUseTests {
    /// `code | message` of the error `code` raises, and how many creates reached the sandbox.
    func failure(_ h: Harness, _ code: String) async throws -> (String, Int) {
        let r = try await h.run("""
            local ok, e = pcall(function() \(code) end)
            if ok then return "no error" end
            return e.code .. " | " .. e.message
            """)
        let creates = h.mutatingRequests().filter { $0.method == "POST" && $0.path.hasSuffix("/instances") }.count
        return (r.first?.stringValue ?? "", creates)
    }

    // MARK: 4. A misspelt candidate

    @Test func misspeltCandidateIsRefusedBeforeAnyAttempt() async throws {
        let h = try await Harness.make()
        let (e, creates) = try await failure(h, #"runcrate.launch{ name = "m", candidates = {"h100", "l40s"} }"#)
        #expect(e.hasPrefix("validation_error | candidates[1]: unknown GPU type 'h100' — did you mean 'h100-sxm'?"))
        #expect(creates == 0)
    }

    @Test func knownTypeWithoutAConfigOfTheCountIsStillNoMatch() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local inst, attempts = runcrate.launch{ name = "m", candidates = {"b200", "l40s"}, region = "us-east" }
            return attempts[1].outcome, attempts[2].outcome, inst.gpu_type
            """)
        #expect(r == [.string("no_match"), .string("created"), .string("l40s")])
    }

    @Test func instanceTypeIDCandidatesAreKnown() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local t = runcrate.instance_types{ gpu_type = "l40s" }[1]
            local inst = runcrate.launch{ name = "m", candidates = { t.id } }
            return inst.gpu_type
            """)
        #expect(r == [.string("l40s")])
    }

    // MARK: 8. wait_for with an unknown status

    @Test func waitForUnknownStatusIsRefusedAtOnce() async throws {
        let h = try await Harness.make()
        let started = ContinuousClock.now
        let (e, _) = try await failure(h, """
            local i = runcrate.create_instance{ name = "w", gpu_type = "l40s" }
            runcrate.wait_for(i, { status = "runing", timeout = 60 })
            """)
        #expect(e.hasPrefix("validation_error | wait_for: unknown status 'runing' — did you mean 'running'?"))
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func waitForMisspeltOptionGetsASuggestion() async throws {
        let h = try await Harness.make()
        let (e, _) = try await failure(h, #"runcrate.wait_for("i-1", { timout = 5 })"#)
        #expect(e.hasPrefix("validation_error | wait_for: unknown option 'timout' — did you mean 'timeout'?"))
    }

    // MARK: 9. Filters and launch fields that match nothing

    @Test func instanceTypesFiltersThatMatchNothingKnownAreRefused() async throws {
        let h = try await Harness.make()
        let (gpu, _) = try await failure(h, #"runcrate.instance_types{ gpu_type = "H100-SXM" }"#)
        #expect(gpu.hasPrefix("validation_error | gpu_type: unknown GPU type 'H100-SXM' — did you mean 'h100-sxm'?"))
        let (region, _) = try await failure(h, #"runcrate.instance_types{ region = "us_east" }"#)
        #expect(region.hasPrefix("validation_error | region: unknown region 'us_east' — did you mean 'us-east'?"))
        // A known value that matches nothing with the other filters is an empty list, not an error.
        let r = try await h.run(#"return #runcrate.instance_types{ gpu_type = "b200", region = "us-east" }"#)
        #expect(r == [.integer(0)])
    }

    @Test func misspeltLaunchFieldsGetSuggestions() async throws {
        let h = try await Harness.make()
        let (candidate, c1) = try await failure(h, #"runcrate.launch{ name = "m", candidate = {"l40s"}, candidates = {"l40s"} }"#)
        #expect(candidate.contains("unknown field 'candidate' — did you mean 'candidates'?"))
        let (price, c2) = try await failure(h, #"runcrate.launch{ name = "m", candidates = {"l40s"}, max_prise = 2 }"#)
        #expect(price.contains("unknown field 'max_prise' — did you mean 'max_price'?"))
        let (gpu, _) = try await failure(h, #"runcrate.launch{ name = "m", candidates = {"l40s"}, gpu_cuont = 2 }"#)
        #expect(gpu.contains("unknown field 'gpu_cuont' — did you mean 'gpu_count'?"))
        #expect(c1 + c2 == 0)
    }

    // MARK: 10. Tables that go stale

    @Test func deleteAndTerminateUpdateTheTablesTheScriptHolds() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local a = runcrate.create_instance{ name = "s1", gpu_type = "l40s" }
            local b = runcrate.create_instance{ name = "s2", gpu_type = "l40s" }
            local listed = runcrate.instances{ search = "s1" }[1]
            local before = a.status
            runcrate.delete_instance(a)
            b:terminate()
            return before, a.status, listed.status, b.status
            """)
        #expect(r[0] != .string("terminated"))
        #expect(Array(r.dropFirst()) == [.string("terminated"), .string("terminated"), .string("terminated")])
    }

    @Test func aGetOrAStatusPollUpdatesEarlierTables() async throws {
        let h = try await Harness.make(readyAfter: 0.1)
        let r = try await h.run("""
            local a = runcrate.create_instance{ name = "g", gpu_type = "l40s" }
            runcrate.sleep(0.3)
            local st = runcrate.instance_status(a.id)
            local after_status = a.status
            local fresh = runcrate.instance(a.id)
            return st.status, after_status, a.ip ~= nil, fresh.ip == a.ip
            """)
        #expect(r == [.string("running"), .string("running"), .boolean(true), .boolean(true)])
    }

    @Test func dryRunPlannedInstanceBecomesTerminated() async throws {
        let h = try await Harness.make(dryRun: true)
        let r = try await h.run("""
            local a = runcrate.create_instance{ name = "d", gpu_type = "l40s" }
            local before = a.status
            a:terminate()
            return before, a.status, runcrate.instance(a.id).status
            """)
        #expect(r == [.string("planned"), .string("terminated"), .string("terminated")])
    }

    // MARK: 13. Retry until capacity appears

    @Test func retryRoundsLaunchOnceCapacityAppears() async throws {
        let h = try await Harness.make()
        h.sandbox.setStock(gpuType: "l40s", count: 0)
        h.sandbox.setStock(gpuType: "rtx-4090", count: 0)
        // Capacity comes back once the first round has been refused (both creates), while the
        // launch waits for the next.
        let sandbox = h.sandbox
        Task.detached {
            for _ in 0..<600 {
                if sandbox.requestLog().filter({ $0.method == "POST" }).count >= 2 { break }
                try? await Task.sleep(for: .milliseconds(20))
            }
            sandbox.setStock(gpuType: "l40s", count: 5)
        }
        let r = try await h.run("""
            local inst, attempts = runcrate.launch{ name = "r", candidates = {"rtx-4090", "l40s"}, gpu_count = 1,
              retry = { duration = 60, interval = 0.5 } }
            local rounds = {}
            for _, a in ipairs(attempts) do rounds[#rounds + 1] = a.round .. ":" .. a.outcome end
            return inst.gpu_type, attempts[#attempts].round > 1, rounds[1], rounds[2], rounds[#rounds]
            """)
        #expect(r[0] == .string("l40s"))
        #expect(r[1] == .boolean(true))
        #expect(r[2] == .string("1:no_capacity"))
        #expect(r[3] == .string("1:no_capacity"))
        #expect(r[4].stringValue?.hasSuffix(":created") == true)
        let live = try await h.run(#"local n = 0; for _, i in ipairs(runcrate.instances{search = "r"}) do if i.status ~= "terminated" then n = n + 1 end end; return n"#)
        #expect(live == [.integer(1)])
    }

    @Test func retryGivesUpAfterTheDurationWithEveryRound() async throws {
        let h = try await Harness.make()
        h.sandbox.setStock(gpuType: "l40s", count: 0)
        let r = try await h.run("""
            local ok, e = pcall(runcrate.launch, { name = "r", candidates = {"l40s"}, gpu_count = 1,
              retry = { duration = 3, interval = 0.1 } })
            return e.code, e.rounds, #e.attempts, e.attempts[#e.attempts].round, e.message
            """)
        #expect(r[0] == .string("no_capacity"))
        let rounds = Int(r[1].integerValue ?? 0)
        #expect(rounds >= 2)
        #expect(r[2].integerValue.map(Int.init) == rounds)
        #expect(r[3].integerValue.map(Int.init) == rounds)
        #expect(r[4].stringValue?.contains("rounds over") == true)
        #expect(h.mutatingRequests().filter { $0.method == "POST" }.count == rounds)
    }

    @Test func retryDoesNotRepeatAListWithNothingToAskFor() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local ok, e = pcall(runcrate.launch, { name = "r", candidates = {"b200"}, max_price = 0.5,
              retry = { duration = 30, interval = 0.1 } })
            return e.code, e.rounds
            """)
        #expect(r == [.string("no_capacity"), .integer(1)])
    }

    @Test func badRetryOptionsAreValidationErrors() async throws {
        let h = try await Harness.make()
        let (a, _) = try await failure(h, #"runcrate.launch{ name = "r", candidates = {"l40s"}, retry = { duration = 0 } }"#)
        #expect(a.contains("retry.duration: a positive number of seconds expected, got 0"))
        let (b, _) = try await failure(h, #"runcrate.launch{ name = "r", candidates = {"l40s"}, retry = { duration = 5, intervall = 1 } }"#)
        #expect(b.contains("retry: unknown option 'intervall' — did you mean 'interval'?"))
        let (c, _) = try await failure(h, #"runcrate.launch{ name = "r", candidates = {"l40s"}, retry = true }"#)
        #expect(c.contains("retry: a table {duration = seconds, interval = seconds} expected, got boolean"))
    }

    @Test func retryRoundsHoldTheSpendCap() async throws {
        let h = try await Harness.make(maxInstances: 0)
        let (e, creates) = try await failure(h, #"runcrate.launch{ name = "r", candidates = {"l40s"}, retry = { duration = 5, interval = 0.1 } }"#)
        #expect(e.hasPrefix("spend_cap"))
        #expect(creates == 0)
    }

    // MARK: 14. SSH access

    @Test func sshCommandNamesUserHostAndKey() async throws {
        let h = try await Harness.make(readyAfter: 0.1)
        let r = try await h.run("""
            local key = runcrate.create_ssh_key{ name = "laptop", public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f laptop" }
            local i = runcrate.create_instance{ name = "ssh", gpu_type = "l40s", ssh_key_id = key.id }
            local early_ok, early = pcall(i.ssh_command, i)
            runcrate.wait_for(i, { timeout = 30 })
            return early.code, i:ssh_command(), i.ip, key.id
            """)
        #expect(r[0] == .string("conflict"))
        let ip = r[2].stringValue ?? "?"
        let key = r[3].stringValue ?? "?"
        #expect(r[1] == .string("ssh root@\(ip) # with the private key of SSH key \(key) (ssh -i PATH to choose it)"))
    }

    @Test func noSSHKeyWarningSaysHowToAddOne() async throws {
        let h = try await Harness.make()
        try await h.run(#"runcrate.create_instance{ name = "k", gpu_type = "l40s" }"#)
        #expect(h.stderr.contains("no ssh_key_id given"))
        #expect(h.stderr.contains("runcrate.create_ssh_key{name = ..., public_key ="))
    }
}
