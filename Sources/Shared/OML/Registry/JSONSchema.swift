import OsirisCore
import OsirisYAML

/// The subset of JSON Schema that component specs use for their `configSchema` (DESIGN.md §4):
/// type, properties, required, enum, minimum, maximum, minLength, maxLength, pattern, items, default,
/// additionalProperties, description, and oneOf — either groups of `required` at object level
/// ("exactly one of these keys") or alternative schemas for a value.
public struct JSONSchema: Sendable {
    /// The accepted JSON types ("string", "integer", "number", "boolean", "array", "object", "null"); empty means any.
    public var types: [String] = []
    /// Schemas of an object's known members.
    public var properties: [String: JSONSchema] = [:]
    /// The order the properties were declared in, for documentation.
    public var propertyOrder: [String] = []
    /// Members that must be present.
    public var required: [String] = []
    /// Groups of members of which exactly one group must be present (`oneOf: [{required: [...]}, ...]`).
    public var exclusiveRequired: [[String]] = []
    /// Alternative schemas, one of which the value must match.
    public var alternatives: [JSONSchema] = []
    /// The allowed values.
    public var allowedValues: [JSONValue]?
    /// The inclusive numeric bounds.
    public var minimum: Double?
    /// The inclusive numeric bounds.
    public var maximum: Double?
    /// The bounds on a string's length in characters, or an array's item count.
    public var minLength: Int?
    /// The bounds on a string's length in characters, or an array's item count.
    public var maxLength: Int?
    /// A pattern strings must match, as a regular expression (searched, not anchored, as in JSON Schema).
    public var pattern: String?
    /// The schema of an array's items.
    public var items: [JSONSchema] = []
    /// The value used when the member is absent.
    public var defaultValue: JSONValue?
    /// Whether members not listed in `properties` are allowed (default true, as in JSON Schema).
    public var additionalProperties = true
    /// One sentence saying what the member is for.
    public var summary: String?

    /// An empty schema, accepting anything.
    public init() {}

    /// A schema decoded from its YAML form in a spec, keeping the declared order of properties;
    /// unknown keywords are an error so a typo in a spec cannot hide. A `pattern` is compiled when a
    /// value is first checked against it, not here (decoding runs at start-up); the registry's tests
    /// compile every embedded pattern.
    package init(node: YAMLNode, path: String = "configSchema") throws(ComponentSpecError) {
        guard let pairs = node.mapping else { throw ComponentSpecError("\(path) is not a mapping") }
        for pair in pairs {
            let keyword = pair.key.keyText
            let value = pair.value
            switch keyword {
            case "type":
                let json = value.jsonValue
                if let single = json.stringValue {
                    types = [single]
                } else if let list = json.arrayValue?.compactMap(\.stringValue), list.count == json.arrayValue?.count {
                    types = list
                } else {
                    throw ComponentSpecError("\(path).type must be a string or a list of strings")
                }
            case "properties":
                guard let members = value.mapping else { throw ComponentSpecError("\(path).properties must be a mapping") }
                for member in members {
                    let name = member.key.keyText
                    properties[name] = try JSONSchema(node: member.value, path: "\(path).properties.\(name)")
                    propertyOrder.append(name)
                }
            case "required":
                required = value.jsonValue.arrayValue?.compactMap(\.stringValue) ?? []
            case "oneOf":
                guard let list = value.sequence else { throw ComponentSpecError("\(path).oneOf must be a list") }
                for (index, entry) in list.enumerated() {
                    if let keys = entry["required"]?.jsonValue.arrayValue, entry.mapping?.count == 1 {
                        exclusiveRequired.append(keys.compactMap(\.stringValue))
                    } else {
                        alternatives.append(try JSONSchema(node: entry, path: "\(path).oneOf[\(index)]"))
                    }
                }
            case "enum": allowedValues = value.jsonValue.arrayValue
            case "minimum": minimum = value.jsonValue.doubleValue
            case "maximum": maximum = value.jsonValue.doubleValue
            case "minLength", "minItems": minLength = value.jsonValue.intValue
            case "maxLength", "maxItems": maxLength = value.jsonValue.intValue
            case "pattern": pattern = value.string
            case "items": items = [try JSONSchema(node: value, path: "\(path).items")]
            case "default": defaultValue = value.jsonValue
            case "additionalProperties": additionalProperties = value.jsonValue.boolValue ?? true
            case "description": summary = value.string
            case "uniqueItems", "title", "examples", "format": break
            default: throw ComponentSpecError("\(path) uses unsupported keyword '\(keyword)'")
            }
        }
    }

    /// A readable name of the accepted types, such as "integer" or "string or array".
    public var typeDescription: String {
        if !alternatives.isEmpty {
            return alternatives.map(\.typeDescription).joined(separator: " or ")
        }
        return types.isEmpty ? "any value" : types.joined(separator: " or ")
    }
}
