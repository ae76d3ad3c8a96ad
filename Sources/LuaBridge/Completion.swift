import CLua

extension LuaState {
    /// Completions for `word` as typed in the REPL: a global name, or a field after a path of
    /// `.`/`:` separated names (`string.fo`, `t.inner:me`). Tables are read raw, and a value's
    /// metatable `__index` is followed when it is a table, so no Lua code runs. Tables complete
    /// with a trailing `.`, functions with `(`; after `:` only functions are offered.
    public func completions(for word: String) -> [String] {
        withBalancedStack {
            let separatorIndex = word.lastIndex { $0 == "." || $0 == ":" }
            let partial = separatorIndex.map { String(word[word.index(after: $0)...]) } ?? word
            let prefix = separatorIndex.map { String(word[...$0]) } ?? ""
            let methodsOnly = separatorIndex.map { word[$0] == ":" } ?? false

            pushglobaltable()
            if let separatorIndex {
                let path = word[..<separatorIndex]
                if path.contains(":") { return [] }
                for name in path.split(separator: ".", omittingEmptySubsequences: false) {
                    guard isIdentifier(name), completionField(-1, String(name)) else { return [] }
                    remove(-2)
                }
            }

            var found: [String: LuaType] = [:]
            collectCompletionKeys(-1, partial: partial, into: &found)
            var results = found.compactMap { name, type -> String? in
                if methodsOnly && type != .function { return nil }
                return prefix + name + (type == .table ? "." : type == .function ? "(" : "")
            }
            if separatorIndex == nil {
                results += Self.luaKeywords.filter { $0.hasPrefix(partial) && found[$0] == nil }
            }
            return results.sorted()
        }
    }

    static var luaKeywords: [String] {
        ["and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
         "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while"]
    }

    /// Pushes `value[name]`, read raw and then through `__index` tables, and returns true; pushes
    /// nothing and returns false when it is nil.
    private func completionField(_ index: Int32, _ name: String) -> Bool {
        var current = absindex(index)
        let top = gettop()
        for _ in 0..<8 {
            if type(at: current) == .table {
                rawget(current, field: name)
                if type(at: -1) != .nil {
                    let found = gettop()
                    pushvalue(found)
                    replace(top + 1)
                    settop(top + 1)
                    return true
                }
                pop()
            }
            guard pushIndexTable(of: current) else { break }
            current = gettop()
        }
        settop(top)
        return false
    }

    /// Pushes `getmetatable(v).__index` (raw) when it is a table.
    private func pushIndexTable(of index: Int32) -> Bool {
        guard getmetatable(index) else { return false }
        rawget(-1, field: "__index")
        remove(-2)
        if type(at: -1) == .table { return true }
        pop()
        return false
    }

    private func collectCompletionKeys(_ index: Int32, partial: String, into found: inout [String: LuaType]) {
        let top = gettop()
        defer { settop(top) }
        var current = absindex(index)
        for _ in 0..<8 {
            if type(at: current) == .table {
                forEachRaw(current) {
                    if type(at: -2) == .string, let key = tostring(-2), key.hasPrefix(partial),
                       isIdentifier(Substring(key)), found[key] == nil {
                        found[key] = type(at: -1)
                    }
                }
            }
            guard pushIndexTable(of: current) else { break }
            current = gettop()
        }
    }

    private func isIdentifier(_ s: Substring) -> Bool {
        guard let first = s.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return s.utf8.allSatisfy { c in
            c == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
        } && !Self.luaKeywords.contains(String(s))
    }
}
