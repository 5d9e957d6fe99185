import OsirisCore
import OsirisYAML

/// The types a param may declare (DESIGN.md §3).
public enum ParamType: String, Sendable, CaseIterable {
    case string, int, number, bool

    /// The type of a bare scalar default (`tag: nightly` is a string param).
    public init?(of value: JSONValue) {
        switch value {
        case .string: self = .string
        case .int: self = .int
        case .double: self = .number
        case .bool: self = .bool
        default: return nil
        }
    }

    /// Whether `value` has this type; an int is also a number.
    public func accepts(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.string, .string), (.int, .int), (.number, .int), (.number, .double), (.bool, .bool): true
        default: false
        }
    }

    /// Converts text given on the command line or in the environment to this type.
    public func parse(_ text: String) -> JSONValue? {
        switch self {
        case .string: return .string(text)
        case .int: return Int(text).map(JSONValue.int)
        case .number:
            if let integer = Int(text) { return .int(integer) }
            return Double(text).flatMap { $0.isFinite ? JSONValue.double($0) : nil }
        case .bool:
            switch text.lowercased() {
            case "true", "yes", "1": return .bool(true)
            case "false", "no", "0": return .bool(false)
            default: return nil
            }
        }
    }
}

/// A param declared under `params:`, either `{type, default, enum, description}` or a bare default.
public struct ParamDeclaration: Sendable {
    /// The param's name.
    public let name: String
    /// The key node, for positions.
    package let keyNode: YAMLNode
    /// The whole declaration value.
    package let node: YAMLNode
    /// The declared type node (`type: int`), when the declaration is a mapping with one.
    package let typeNode: YAMLNode?
    /// The default's node: the `default` value, or the bare scalar.
    package let defaultNode: YAMLNode?
    /// The `enum` node.
    package let enumNode: YAMLNode?

    /// Reads one `params` entry.
    init(pair: YAMLPair) {
        name = pair.key.keyText
        keyNode = pair.key
        node = pair.value
        if pair.value.mapping != nil {
            typeNode = pair.value["type"]
            defaultNode = pair.value["default"]
            enumNode = pair.value["enum"]
        } else {
            typeNode = nil
            defaultNode = pair.value.scalar != nil ? pair.value : nil
            enumNode = nil
        }
    }

    /// The declared type, else the default's type, else string; nil when `type` names no known type.
    public var type: ParamType? {
        if let typeNode { return typeNode.string.flatMap(ParamType.init(rawValue:)) }
        if let value = defaultValue, let inferred = ParamType(of: value) { return inferred }
        return .string
    }

    /// The default value, when one is declared and is not null.
    public var defaultValue: JSONValue? {
        guard let value = defaultNode?.jsonValue, value != .null else { return nil }
        return value
    }

    /// The allowed values, when `enum` is declared.
    public var allowedValues: [JSONValue]? { enumNode?.jsonValue.arrayValue }

    /// The description, when given.
    public var summary: String? { node["description"]?.string }

    /// Why `value` is not acceptable for this param, or nil when it is.
    public func problem(with value: JSONValue) -> String? {
        guard let type else { return nil }
        if !type.accepts(value) {
            return "param '\(name)' is declared \(type.rawValue), but the value is \(value.typeName == "integer" ? "an integer" : "a \(value.typeName)")"
        }
        if let allowed = allowedValues, !allowed.contains(value) {
            let list = allowed.map { JSONWriter.canonicalString($0) }.joined(separator: ", ")
            return "param '\(name)' must be one of \(list)"
        }
        return nil
    }
}

/// A profile: a named set of param values (`profiles: {prod: {params: {limit: 100000}}}`).
public struct ProfileDeclaration: Sendable {
    /// The profile's name.
    public let name: String
    /// The key node, for positions.
    package let keyNode: YAMLNode
    /// The profile's value.
    package let node: YAMLNode
    /// The param values it sets, in order.
    package let values: [YAMLPair]

    /// Reads one `profiles` entry.
    init(pair: YAMLPair) {
        name = pair.key.keyText
        keyNode = pair.key
        node = pair.value
        values = pair.value["params"]?.mapping ?? []
    }
}

/// One `${params.NAME}` reference inside a string.
public struct ParamReference: Sendable, Equatable {
    /// The param's name.
    public let name: String
    /// Offset of the `$` in Unicode scalars from the start of the string.
    public let offset: Int
    /// Length of the whole reference in Unicode scalars.
    public let length: Int

    /// Every well-formed reference in `text`, in order. Names are letters, digits and `_`,
    /// not starting with a digit.
    public static func all(in text: String) -> [ParamReference] {
        guard text.containsBytes("${params.") else { return [] }
        let scalars = Array(text.unicodeScalars)
        var result: [ParamReference] = []
        var index = 0
        let prefix = Array("${params.".unicodeScalars)
        while index + prefix.count < scalars.count {
            if scalars[index] == "$", Array(scalars[index..<index + prefix.count]) == prefix {
                var end = index + prefix.count
                let nameStart = end
                while end < scalars.count, isNameScalar(scalars[end], first: end == nameStart) { end += 1 }
                if end > nameStart, end < scalars.count, scalars[end] == "}" {
                    let name = String(String.UnicodeScalarView(scalars[nameStart..<end]))
                    result.append(ParamReference(name: name, offset: index, length: end + 1 - index))
                    index = end + 1
                    continue
                }
            }
            index += 1
        }
        return result
    }

    /// The param name when `text` is exactly one reference (`"${params.limit}"`), which takes the
    /// param's type instead of being text.
    public static func whole(_ text: String) -> String? {
        let references = all(in: text)
        guard references.count == 1, references[0].offset == 0, references[0].length == text.unicodeScalars.count else { return nil }
        return references[0].name
    }

    private static func isNameScalar(_ scalar: Unicode.Scalar, first: Bool) -> Bool {
        if (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || scalar == "_" { return true }
        return !first && scalar >= "0" && scalar <= "9"
    }
}
