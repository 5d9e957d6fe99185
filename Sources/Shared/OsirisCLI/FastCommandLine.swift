/// A command line split without ArgumentParser, for a tool's fast path (issue 12, bench/startup).
///
/// ArgumentParser builds its argument tables by reflection at every start, and before parsing it
/// builds a second command's tables to look for `--generate-completion-script`: together about 1.5 ms
/// of a 5 ms `oml-lint FILE`. A tool can answer its common command lines without it: this type
/// accepts only a plain subset of the syntax, where the result is certain to be what ArgumentParser
/// would give, and refuses (`init` returns nil) everything else, which ArgumentParser then parses as
/// before, with its own messages, `--help`, `--version` and exit statuses.
///
/// Accepted: `--flag`; `--option VALUE` where VALUE does not start with `-`; `--option=VALUE`; a
/// short alias `-o VALUE`; and positional arguments that do not start with `-` (and `-` itself, which
/// ArgumentParser also takes as a value). Refused: any other argument starting with `-` (`-h`,
/// `--help`, `--version` among others, unknown flags, `--`), `--flag=VALUE`, an option without its
/// value, and a flag or single-valued option given twice.
public struct FastCommandLine {
    /// One option given on the command line.
    private struct Setting {
        var name: String
        var value: String
    }

    // Arrays rather than sets and dictionaries: instantiating Set<String> or Dictionary<String, _>
    // metadata searches the conformance table for Hashable, which is a measurable part of this path.
    private var settings: [Setting] = []
    /// The flags named on the command line, by long name, in order.
    public private(set) var flags: [String] = []
    /// The positional arguments, in order.
    public private(set) var positionals: [String] = []

    /// Splits `arguments` (without the program name), or returns nil when they use anything beyond
    /// the plain subset: `flags` and `options` are long names without dashes, `repeatable` the options
    /// that may be given more than once, `shortNames` pairs a one-letter alias with its long option.
    public init?(
        _ arguments: [String], flags knownFlags: [String], options knownOptions: [String],
        repeatable: [String] = [], shortNames: [(short: Character, long: String)] = []
    ) {
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("-"), argument != "-" else {
                positionals.append(argument)
                continue
            }
            let name: String
            var inlineValue: String?
            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                if let equals = body.firstIndex(of: "=") {
                    name = String(body[..<equals])
                    inlineValue = String(body[body.index(after: equals)...])
                } else {
                    name = String(body)
                }
            } else if argument.count == 2, let alias = shortNames.first(where: { $0.short == argument.last }) {
                name = alias.long
            } else {
                return nil
            }
            if knownFlags.contains(name) {
                guard inlineValue == nil, !flags.contains(name) else { return nil }
                flags.append(name)
            } else if knownOptions.contains(name) {
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else {
                    guard index < arguments.endIndex, !arguments[index].hasPrefix("-") else { return nil }
                    value = arguments[index]
                    index += 1
                }
                guard repeatable.contains(name) || !settings.contains(where: { $0.name == name }) else { return nil }
                settings.append(Setting(name: name, value: value))
            } else {
                return nil
            }
        }
    }

    /// The value of a single-valued option, or nil when it was not given.
    public func value(_ name: String) -> String? { settings.last { $0.name == name }?.value }

    /// The values of a repeatable option, in order.
    public func values(_ name: String) -> [String] { settings.filter { $0.name == name }.map(\.value) }

    /// Whether a flag was given.
    public func has(_ flag: String) -> Bool { flags.contains(flag) }
}
