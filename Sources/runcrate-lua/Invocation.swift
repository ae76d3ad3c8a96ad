/// What the command line asks for, collected before any Lua code runs (lua.c's `collectargs`).
struct Invocation {
    /// `-e`, `-l` and `-W`, run in the order given.
    enum Action: Equatable {
        case execute(String)
        case require(global: String, module: String)
        case warningsOn
    }

    var arguments: [String]
    var actions: [Action] = []
    /// Index in `arguments` of the script; nil when there is none.
    var scriptIndex: Int?
    var interactive = false
    var showVersion = false
    var hasExecute = false
    var ignoreEnvironment = false
    var help = false
    var version = false
    var configuration = Configuration()

    /// Why the command line was refused.
    enum Failure: Error, Equatable {
        /// A short option lua would refuse: lua's message and usage follow.
        case badOption(String)
        /// A long option without its value.
        case missingValue(String)
        /// A long option with a bad value, or options that do not go together.
        case invalid(ConfigurationError)
    }

    /// Options end at the first argument that is not one, at `--`, or at `-`; the rest belong to the script.
    init(_ arguments: [String]) throws(Failure) {
        self.arguments = arguments
        var i = 1
        while i < arguments.count {
            let argument = arguments[i]
            if !argument.hasPrefix("-") || argument == "-" {
                scriptIndex = i
                break
            }
            if argument == "--" {
                scriptIndex = i + 1 < arguments.count ? i + 1 : nil
                break
            }
            if argument.hasPrefix("--") {
                i = try collectLong(at: i)
                continue
            }
            i = try collectShort(at: i)
        }
        do throws(ConfigurationError) { try configuration.validate() } catch { throw .invalid(error) }
    }

    /// The script is standard input: `-` not preceded by `--`.
    var scriptIsStdin: Bool {
        guard let scriptIndex else { return false }
        return arguments[scriptIndex] == "-" && arguments[scriptIndex - 1] != "--"
    }

    private mutating func collectShort(at index: Int) throws(Failure) -> Int {
        let argument = arguments[index]
        let option = argument.dropFirst().first!
        let attached = String(argument.dropFirst(2))
        switch option {
        case "E", "W", "i", "v":
            guard attached.isEmpty else { throw .badOption(argument) }
            if option == "E" { ignoreEnvironment = true }
            if option == "W" { actions.append(.warningsOn) }
            if option == "i" { interactive = true }
            if option == "i" || option == "v" { showVersion = true }
            return index + 1
        case "e", "l":
            var value = attached
            var next = index + 1
            if value.isEmpty {
                guard next < arguments.count, !arguments[next].hasPrefix("-") else { throw .badOption(argument) }
                value = arguments[next]
                next += 1
            }
            if option == "e" {
                hasExecute = true
                actions.append(.execute(value))
            } else if let equals = value.firstIndex(of: "=") {
                actions.append(.require(global: String(value[..<equals]), module: String(value[value.index(after: equals)...])))
            } else {
                actions.append(.require(global: value, module: value))
            }
            return next
        default:
            throw .badOption(argument)
        }
    }

    /// `--name`, `--name=value` or `--name value`.
    private mutating func collectLong(at index: Int) throws(Failure) -> Int {
        let argument = arguments[index]
        var name = String(argument.dropFirst(2))
        var value: String?
        if let equals = name.firstIndex(of: "=") {
            value = String(name[name.index(after: equals)...])
            name = String(name[..<equals])
        }
        var next = index + 1
        if name == "help" || name == "version" {
            guard value == nil else { throw .badOption(argument) }
            if name == "help" { help = true } else { version = true }
            return next
        }
        guard let option = Configuration.longOption(named: name) else { throw .badOption(argument) }
        if option.valueName == nil {
            guard value == nil else { throw .invalid(ConfigurationError("--\(name) takes no value")) }
        } else if value == nil {
            guard next < arguments.count else { throw .missingValue("--\(name)") }
            value = arguments[next]
            next += 1
        }
        do throws(ConfigurationError) { try option.apply(&configuration, value ?? "") } catch { throw .invalid(error) }
        return next
    }
}
