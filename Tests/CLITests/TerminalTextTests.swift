import Foundation
import Testing

/// The exact terminal text of two things a live user sees: the confirmation before the first create,
/// and the `--verbose` log.
@Suite("live confirmation and the verbose log", .serialized)
struct TerminalTextTests {
    @Test func liveConfirmationAsksOnceWithOneYesNo() throws {
        let (server, url) = try PersistentSandboxTests.startSandbox()
        defer { server.terminate(); server.waitUntilExit() }
        let env = ["RUNCRATE_API_KEY": "rc_live_testkey_0123456789", "RUNCRATE_BASE_URL": url,
                   "XDG_STATE_HOME": Paths.temporaryDirectory().path]
        let session = try PseudoTerminalSession(Paths.runcrateLua, argv0: "runcrate-lua",
            ["--live", "-e", #"local ok, e = pcall(runcrate.create_instance, { name = "lv", instance_type_id = "jolly-curie-rtxx1-f0b9", ssh_key_id = "k" }); print(e.code)"#],
            environment: env)
        #expect(session.expect("[y/N] "), "\(session.output)")
        session.send("n\r")
        #expect(session.expect("cancelled"), "\(session.output)")
        _ = session.waitForExit()
        let question = "runcrate: create instance 'lv' (jolly-curie-rtxx1-f0b9 x1, about 0.42 USD/h) on the LIVE API? [y/N] "
        #expect(session.output.components(separatedBy: question).count == 2, "\(session.output)")
        #expect(!session.output.contains("[y/N]  [y/N]") && !session.output.contains("[y/N] [y/N]"), "\(session.output)")
    }

    @Test func verboseLogsEachCallOnceInOneVoice() throws {
        let r = try runcrateLua(["--sandbox", "--verbose", "-e",
            #"runcrate.create_instance{ name = "v", gpu_type = "l40s" }"#])
        #expect(r.status == 0, "\(r)")
        let posts = r.stderr.split(separator: "\n").filter { $0.contains("POST") }
        #expect(posts.count == 1, "\(r.stderr)")
        #expect(posts.first?.hasPrefix("runcrate: POST /api/v1/instances {") == true, "\(r.stderr)")
        #expect(!r.stderr.contains("runcrate-lua: POST") && !r.stderr.contains("runcrate-lua: GET"), "\(r.stderr)")
    }
}
