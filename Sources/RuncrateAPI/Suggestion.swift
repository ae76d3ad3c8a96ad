/// The one "did you mean": the known name closest to a misspelt one, for the client's messages and
/// the Lua module's alike.
public enum Suggestion {
    /// Scores are in half edits: a name that starts with what was typed (or the reverse) scores one,
    /// so `h100` suggests `h100-sxm` rather than `h200`; one that only contains it scores two edits;
    /// names equal but for `_` score none. A name is offered within a third of its length (at least
    /// two edits); ties go to the earlier name.
    public static func closest(to key: String, in known: [String]) -> String? {
        let lower = key.lowercased()
        var best: (name: String, score: Int)?
        for name in known {
            var score = 2 * distance(lower, name)
            if name.replacingOccurrences(of: "_", with: "") == lower.replacingOccurrences(of: "_", with: "") { score = 0 }
            else if name.hasPrefix(lower) || lower.hasPrefix(name) { score = min(score, 1) }
            else if name.contains(lower) { score = min(score, 4) }
            guard score <= 2 * max(2, name.count / 3) else { continue }
            if best == nil || score < best!.score { best = (name, score) }
        }
        return best?.name
    }

    /// Levenshtein distance.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
