import RuncrateAPI

/// A problem with one field of a Lua spec, named the way the script wrote it (`env.HF_TOKEN`,
/// `startup_commands.2`). `message` is the whole sentence and names the field.
struct LuaFieldError: Equatable {
    var field: String
    var message: String
}

/// The errinfo table a native call hands back to the prelude, which turns it into an error object.
struct ErrorInfo: Error {
    var code: String
    var message: String
    var status: Int? = nil
    var retryable = false
    var errors: [LuaFieldError] = []
    var requestID: String? = nil
    var serverCode: String? = nil
    var retryAfter: Double? = nil

    static func validation(_ errors: [LuaFieldError]) -> ErrorInfo {
        ErrorInfo(code: "validation_error", message: errors.map(\.message).joined(separator: "; "), errors: errors)
    }

    static func validation(field: String, _ message: String) -> ErrorInfo {
        validation([LuaFieldError(field: field, message: message)])
    }

    /// A client error; field paths are renamed with `rename` (wire path → Lua field).
    init(_ error: RuncrateError, rename: (FieldError) -> String = { $0.field }) {
        let fields = error.fieldErrors.map { fe -> LuaFieldError in
            let name = rename(fe)
            return LuaFieldError(field: name, message: name.isEmpty ? fe.message : "\(name) \(fe.message)")
        }
        self.code = error.code.rawValue
        self.message = fields.isEmpty ? error.message : fields.map(\.message).joined(separator: "; ")
        self.status = error.status
        self.retryable = error.isRetryable
        self.errors = fields
        self.requestID = error.requestID
        self.serverCode = error.serverCode
        self.retryAfter = error.retryAfter
    }

    init(code: String, message: String, status: Int? = nil, retryable: Bool = false, errors: [LuaFieldError] = [],
         requestID: String? = nil, serverCode: String? = nil, retryAfter: Double? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.retryable = retryable
        self.errors = errors
        self.requestID = requestID
        self.serverCode = serverCode
        self.retryAfter = retryAfter
    }
}

extension Suggestion {
    /// The module's wording of a suggestion: ` — did you mean 'x'?`, or "" when there is none.
    static func hint(_ suggestion: String?) -> String {
        suggestion.map { " — did you mean '\($0)'?" } ?? ""
    }

    /// `hint` for the known name closest to `word`, shown through `shown` (a field's full path).
    static func didYouMean(_ word: String, in known: [String], shown: (String) -> String = { $0 }) -> String {
        hint(closest(to: word, in: known).map(shown))
    }
}
