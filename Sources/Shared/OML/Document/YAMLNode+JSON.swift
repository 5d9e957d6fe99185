import OsirisCore
import OsirisYAML

extension YAMLNode {
    /// The node as a JSON value: scalars by their resolved type, mapping keys by their text.
    package var jsonValue: JSONValue {
        switch kind {
        case .scalar(let scalar):
            return scalar.value.jsonValue
        case .sequence(let items):
            return .array(items.map(\.jsonValue))
        case .mapping(let pairs):
            var members: [String: JSONValue] = [:]
            for pair in pairs where members[pair.key.keyText] == nil {
                members[pair.key.keyText] = pair.value.jsonValue
            }
            return .object(members)
        }
    }

    /// The text a mapping key stands for: a scalar's text, or the kind of a complex key.
    package var keyText: String {
        if case .scalar(let scalar) = kind { return scalar.text }
        return "<\(kindName)>"
    }
}

extension YAMLScalarValue {
    /// The scalar as a JSON value.
    package var jsonValue: JSONValue {
        switch self {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .int(let number): .int(number)
        case .float(let number): .double(number)
        case .string(let text): .string(text)
        }
    }
}
