import OsirisCore

/// Why the effective params could not be worked out.
public enum ParamResolutionError: OsirisError, Equatable {
    /// `--profile NAME` names no declared profile (usage error, 64).
    case unknownProfile(name: String, declared: [String])
    /// `--param` is not `NAME=VALUE` (usage error, 64).
    case malformedFlag(String)
    /// `--param NAME=...` names no declared param (usage error, 64).
    case unknownParam(name: String, declared: [String])
    /// A `--param` value does not fit the param (usage error, 64).
    case invalidFlagValue(flag: String, problem: String)
    /// An `OSIRIS_PARAM_<NAME>` value does not fit the param (configuration error, 78).
    case invalidEnvironmentValue(variable: String, problem: String)
    /// A param has no default and no value was given (usage error, 64).
    case missingValue(name: String)

    public var exitStatus: ExitStatus {
        if case .invalidEnvironmentValue = self { return .configuration }
        return .usage
    }

    public var description: String {
        switch self {
        case .unknownProfile(let name, let declared):
            return declared.isEmpty
                ? "unknown profile '\(name)': the pipeline declares no profiles"
                : "unknown profile '\(name)'; declared profiles: \(declared.joined(separator: ", "))"
        case .malformedFlag(let text):
            return "--param '\(text)' is not NAME=VALUE"
        case .unknownParam(let name, let declared):
            let near = closestMatch(to: name, among: declared).map { "; did you mean '\($0)'?" } ?? ""
            return declared.isEmpty
                ? "--param '\(name)': the pipeline declares no params"
                : "--param '\(name)': no such param (declared: \(declared.joined(separator: ", ")))\(near)"
        case .invalidFlagValue(let flag, let problem):
            return "--param '\(flag)': \(problem)"
        case .invalidEnvironmentValue(let variable, let problem):
            return "environment variable \(variable): \(problem)"
        case .missingValue(let name):
            return "param '\(name)' has no default; give it with --param \(name)=VALUE or OSIRIS_PARAM_\(name.uppercased())"
        }
    }
}

/// The effective values of a document's params (DESIGN.md §3): declared default < active profile <
/// environment `OSIRIS_PARAM_<NAME>` < `--param NAME=VALUE`.
public enum ParamResolution {
    /// The environment variable that sets a param: `OSIRIS_PARAM_` and the name in upper case; the
    /// name as declared is accepted too and wins when both are set.
    public static func environmentVariables(for name: String) -> [String] {
        let exact = "OSIRIS_PARAM_\(name)"
        let upper = "OSIRIS_PARAM_\(name.uppercased())"
        return exact == upper ? [exact] : [exact, upper]
    }

    /// Works out every param's value; `profile` nil means the default profile.
    public static func resolve(
        _ document: OMLDocument, profile: String?, environment: [String: String], commandLine: [String]
    ) throws(ParamResolutionError) -> [String: JSONValue] {
        var values: [String: JSONValue] = [:]
        for param in document.params {
            if let value = param.defaultValue { values[param.name] = value }
        }
        if let profile {
            guard let declaration = document.profiles.first(where: { $0.name == profile }) else {
                throw .unknownProfile(name: profile, declared: document.profiles.map(\.name))
            }
            for pair in declaration.values where document.param(named: pair.key.keyText) != nil {
                values[pair.key.keyText] = pair.value.jsonValue
            }
        }
        for param in document.params {
            guard let type = param.type else { continue }
            for variable in environmentVariables(for: param.name) {
                guard let text = environment[variable] else { continue }
                guard let value = type.parse(text) else {
                    throw .invalidEnvironmentValue(variable: variable, problem: "'\(text)' is not \(withArticle(type.rawValue))")
                }
                if let problem = param.problem(with: value) { throw .invalidEnvironmentValue(variable: variable, problem: problem) }
                values[param.name] = value
                break
            }
        }
        for flag in commandLine {
            guard let equals = flag.firstIndex(of: "="), equals != flag.startIndex else { throw .malformedFlag(flag) }
            let name = String(flag[..<equals])
            let text = String(flag[flag.index(after: equals)...])
            guard let param = document.param(named: name) else {
                throw .unknownParam(name: name, declared: document.params.map(\.name))
            }
            guard let type = param.type else { continue }
            guard let value = type.parse(text) else {
                throw .invalidFlagValue(flag: flag, problem: "'\(text)' is not \(withArticle(type.rawValue))")
            }
            if let problem = param.problem(with: value) { throw .invalidFlagValue(flag: flag, problem: problem) }
            values[name] = value
        }
        for param in document.params where values[param.name] == nil {
            throw .missingValue(name: param.name)
        }
        return values
    }

    /// `value` with every `${params.NAME}` replaced: a string that is exactly one reference becomes
    /// the param's value with its type; a reference inside a longer string becomes the value's text.
    public static func substitute(_ value: JSONValue, params: [String: JSONValue]) -> JSONValue {
        switch value {
        case .string(let text):
            guard text.containsBytes("${params.") else { return value }
            if let name = ParamReference.whole(text), let replacement = params[name] { return replacement }
            var result = ""
            var scalars = Array(text.unicodeScalars)[...]
            var position = 0
            for reference in ParamReference.all(in: text) {
                guard let replacement = params[reference.name] else { continue }
                result += String(String.UnicodeScalarView(scalars.prefix(reference.offset - position)))
                scalars = scalars.dropFirst(reference.offset - position + reference.length)
                position = reference.offset + reference.length
                result += Self.text(of: replacement)
            }
            result += String(String.UnicodeScalarView(scalars))
            return .string(result)
        case .array(let items):
            return .array(items.map { substitute($0, params: params) })
        case .object(let members):
            return .object(members.mapValues { substitute($0, params: params) })
        default:
            return value
        }
    }

    /// How a value reads inside a longer string.
    public static func text(of value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .bool(let flag): flag ? "true" : "false"
        case .null: ""
        default: JSONWriter.canonicalString(value)
        }
    }
}
