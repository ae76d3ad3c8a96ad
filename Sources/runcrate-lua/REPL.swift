#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif
import LuaBridge
import LuaLineReader

/// The read-eval-print loop, as lua.c's `doREPL`: try `return <line>` first, read more lines while
/// the chunk ends too early, print results through the global `print`, report errors and go on.
extension Interpreter {
    enum LoadedLine {
        case chunk
        case failed(LuaError)
        case endOfInput
    }

    func doREPL() {
        let savedProgname = progname
        progname = nil
        let reader = makeLineReader()
        lua.setTimeout(nil)
        while true {
            switch loadline(reader) {
            case .endOfInput:
                L.settop(0)
                fputs("\n", stdout)
                fflush(stdout)
                progname = savedProgname
                return
            case .failed(let error):
                message(error.message)
            case .chunk:
                evaluate()
            }
        }
    }

    /// Runs the chunk on top of the stack (under `--timeout`, per chunk) and prints its results.
    func evaluate() {
        lua.setTimeout(invocation.configuration.timeoutSeconds)
        defer { lua.setTimeout(nil) }
        do throws(LuaError) {
            try docall(nargs: 0, nresults: Self.allResults)
        } catch {
            return message(error.message)
        }
        printResults()
    }

    /// libedit on a terminal; plain lines otherwise, as lua.c reads them without readline.
    func makeLineReader() -> LineReader {
        guard isatty(0) != 0 else { return PlainLineReader() }
        let L = self.L
        return EditLineReader(historyFile: Self.historyFile()) { word in L.completions(for: word) }
    }

    /// `$XDG_STATE_HOME/runcrate-lua/history`, else `~/.runcrate_lua_history`.
    static func historyFile() -> String? {
        if let state = getenv("XDG_STATE_HOME").map({ String(cString: $0) }), !state.isEmpty {
            return state + "/runcrate-lua/history"
        }
        if let home = getenv("HOME").map({ String(cString: $0) }), !home.isEmpty {
            return home + "/.runcrate_lua_history"
        }
        return nil
    }

    /// Reads a chunk and leaves it compiled on an empty stack.
    func loadline(_ reader: LineReader) -> LoadedLine {
        L.settop(0)
        guard let line = pushline(reader, firstline: true) else { return .endOfInput }
        if addreturn(line, reader) { return .chunk }
        if let error = multiline(line, reader) { return .failed(error) }
        return .chunk
    }

    /// One line of input; `=expr` on a first line means `return expr`.
    func pushline(_ reader: LineReader, firstline: Bool) -> String? {
        guard let line = reader.readLine(prompt: prompt(firstline: firstline)) else { return nil }
        if firstline && line.hasPrefix("=") { return "return " + line.dropFirst() }
        return line
    }

    /// `_PROMPT`/`_PROMPT2` through `tostring`, or the defaults.
    func prompt(firstline: Bool) -> String {
        L.getglobal(raw: firstline ? "_PROMPT" : "_PROMPT2")
        defer { L.pop() }
        switch L.type(at: -1) {
        case .nil: return firstline ? "> " : ">> "
        case .string: return L.tostring(-1) ?? ""
        default: return L.tostringMeta(-1)
        }
    }

    /// Compiles `return <line>;`, so that expressions print their values.
    func addreturn(_ line: String, _ reader: LineReader) -> Bool {
        do throws(LuaError) {
            try L.load("return \(line);", name: "=stdin")
        } catch {
            return false
        }
        reader.saveLine(line)
        return true
    }

    /// Compiles `line` as a statement, reading more lines while it ends too early.
    func multiline(_ line: String, _ reader: LineReader) -> LuaError? {
        var chunk = line
        while true {
            do throws(LuaError) {
                try L.load(chunk, name: "=stdin")
                reader.saveLine(chunk)
                return nil
            } catch {
                guard error.isIncompleteInput, let next = pushline(reader, firstline: false) else {
                    reader.saveLine(chunk)
                    return error
                }
                chunk += "\n" + next
            }
        }
    }

    /// Calls the global `print` with everything on the stack.
    func printResults() {
        let n = L.gettop()
        guard n > 0 else { return }
        L.getglobal(raw: "print")
        L.insert(1)
        do throws(LuaError) {
            try L.pcall(nargs: n, nresults: 0, traceback: false)
        } catch {
            message("error calling 'print' (\(error.message))")
        }
    }
}
