/// Make rules that name a manifest's inputs, so Makefiles rebuild it when any of them changes.
public enum Depfile {
    /// `TARGET: INPUT...` followed by a newline, with names escaped for make.
    public static func rule(target: String, inputs: [String]) -> String {
        ([escape(target) + ":"] + inputs.map(escape)).joined(separator: " ") + "\n"
    }

    /// A file name as make reads it: spaces, `#` and `:` escaped with a backslash, `$` doubled.
    public static func escape(_ name: String) -> String {
        var result = ""
        for character in name {
            switch character {
            case " ", "#", ":", "\\": result += "\\\(character)"
            case "$": result += "$$"
            default: result.append(character)
            }
        }
        return result
    }
}
