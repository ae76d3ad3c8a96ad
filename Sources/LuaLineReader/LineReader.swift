@preconcurrency import CEdit
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// Reads the REPL's input one line at a time. `readLine` returns nil at end of input.
public protocol LineReader: AnyObject {
    func readLine(prompt: String) -> String?
    /// Remembers a finished chunk in the history (a no-op for plain input).
    func saveLine(_ line: String)
}

/// Plain lines from standard input, the prompt on standard output: what lua.c does without readline.
public final class PlainLineReader: LineReader {
    public init() {}

    public func readLine(prompt: String) -> String? {
        fputs(prompt, stdout)
        fflush(stdout)
        var buffer: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(buffer) }
        let n = getline(&buffer, &capacity, stdin)
        guard n >= 0, let buffer else { return nil }
        var bytes = UnsafeBufferPointer(start: UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self), count: n)
        if bytes.last == UInt8(ascii: "\n") { bytes = UnsafeBufferPointer(rebasing: bytes.dropLast()) }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func saveLine(_ line: String) {}
}

/// Line editing, persistent history and Tab completion through libedit's readline interface.
/// libedit keeps one global editor, so there is at most one of these per process.
public final class EditLineReader: LineReader {
    /// Completions for the word before the cursor (which may contain `.` and `:`).
    public typealias Completer = (String) -> [String]

    private let historyFile: String?

    /// `historyFile` is read now and rewritten after every saved line; its directory is created.
    public init(historyFile: String?, maxHistory: Int = 1000, completer: Completer? = nil) {
        self.historyFile = historyFile
        rl_readline_name = UnsafePointer(strdup("runcrate-lua"))
        using_history()
        stifle_history(Int32(maxHistory))
        if let historyFile {
            Self.createParentDirectory(of: historyFile)
            _ = read_history(historyFile)
        }
        EditLineCompletion.completer = completer
        // '.' and ':' are part of a word, so `string.fo<Tab>` completes the field.
        rl_basic_word_break_characters = UnsafePointer(strdup(" \t\n\"\\'`@$><=;|&{(,+-*/%^~#[]"))
        rl_completer_word_break_characters = strdup(" \t\n\"\\'`@$><=;|&{(,+-*/%^~#[]")
        rl_attempted_completion_function = completer == nil ? nil : { text, _, _ in
            rl_attempted_completion_over = 1
            rl_completion_append_character = 0
            return rl_completion_matches(text) { text, state in EditLineCompletion.next(text, state) }
        }
    }

    public func readLine(prompt: String) -> String? {
        guard let line = readline(prompt) else { return nil }
        defer { free(line) }
        return String(cString: line)
    }

    public func saveLine(_ line: String) {
        guard !line.isEmpty else { return }
        add_history(line)
        if let historyFile { _ = write_history(historyFile) }
    }

    private static func createParentDirectory(of path: String) {
        var components = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        var prefix = ""
        while !components.isEmpty {
            prefix += components.removeFirst() + "/"
            if prefix != "/" { mkdir(prefix, 0o700) }
        }
    }
}

/// The completion list is computed once per Tab (state 0) and handed to libedit one entry at a time.
private enum EditLineCompletion {
    nonisolated(unsafe) static var completer: EditLineReader.Completer?
    nonisolated(unsafe) static var pending: [String] = []

    static func next(_ text: UnsafePointer<CChar>?, _ state: Int32) -> UnsafeMutablePointer<CChar>? {
        if state == 0 {
            pending = completer?(text.map { String(cString: $0) } ?? "") ?? []
            pending.reverse()
        }
        guard let item = pending.popLast() else { return nil }
        return strdup(item)
    }
}
