import OsirisCore
import Synchronization
import OsirisYAML

/// One way a config value breaks its component's schema, pointing at the offending node.
package struct SchemaViolation: Sendable {
    /// What is wrong.
    package enum Kind: Sendable, Equatable {
        /// A member the schema does not know; `node` is its key.
        case unknownKey(String)
        /// Required members that are missing; more than one name means "one of these"; `node` is the object.
        case missing([String])
        /// Two members of which only one may be given; `node` is the key of `second`.
        case conflicting(first: String, second: String)
        /// The value has the wrong type.
        case wrongType(expected: String, found: String)
        /// The value is not one of the allowed values.
        case notAllowed([JSONValue])
        /// A number outside its inclusive bounds.
        case outOfBounds(minimum: Double?, maximum: Double?)
        /// A string or list shorter or longer than allowed.
        case badLength(minimum: Int?, maximum: Int?, isList: Bool)
        /// A string that does not match the pattern.
        case patternMismatch(String)
    }

    /// What is wrong.
    package var kind: Kind
    /// The node to point at.
    package var node: YAMLNode
    /// The path of member names and list indexes from the config root, such as `primary_key[1]`.
    package var path: String
}

/// Checks a YAML value against a `JSONSchema`.
package struct SchemaValidator {
    /// Resolves a string that is exactly one `${params.NAME}` reference to the param's value, so that
    /// `"${params.limit}"` is checked as the integer it stands for; nil when it is no such reference.
    package var resolveParamReference: (String) -> JSONValue?
    /// Top-level keys handled elsewhere (`connection`, checked by the connection rules).
    package var skippedKeys: Set<String>

    /// A validator.
    package init(skippedKeys: Set<String> = [], resolveParamReference: @escaping (String) -> JSONValue? = { _ in nil }) {
        self.skippedKeys = skippedKeys
        self.resolveParamReference = resolveParamReference
    }

    /// Every violation of `schema` by `node`, in document order.
    package func validate(_ node: YAMLNode, against schema: JSONSchema) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        check(node, schema, path: "", depth: 0, topLevel: true, into: &violations)
        return violations
    }

    private func jsonType(of value: JSONValue) -> String { value.typeName }

    private func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("string", .string), ("boolean", .bool), ("array", .array), ("object", .object), ("null", .null): true
        case ("integer", .int): true
        case ("integer", .double(let number)): number.rounded() == number
        case ("number", .int), ("number", .double): true
        default: false
        }
    }

    private func check(
        _ node: YAMLNode, _ schema: JSONSchema, path: String, depth: Int, topLevel: Bool, into violations: inout [SchemaViolation]
    ) {
        guard depth < 64 else { return }
        if !schema.alternatives.isEmpty {
            let fits = schema.alternatives.contains { alternative in
                var trial: [SchemaViolation] = []
                check(node, alternative, path: path, depth: depth + 1, topLevel: false, into: &trial)
                return trial.isEmpty
            }
            if !fits {
                let found = node.scalar?.value.jsonValue.typeName ?? (node.sequence != nil ? "array" : "object")
                violations.append(SchemaViolation(
                    kind: .wrongType(expected: schema.typeDescription, found: found), node: node, path: path))
            }
            return
        }

        // A string that is exactly one param reference takes the param's type (DESIGN.md §3).
        // Containers stand in as empty values of their kind: only their type matters here, and
        // converting a whole subtree at every level would be quadratic.
        var value: JSONValue
        switch node.kind {
        case .scalar(let scalar): value = scalar.value.jsonValue
        case .sequence: value = .array([])
        case .mapping: value = .object([:])
        }
        var isTemplated = false
        if case .string(let text) = value, text.containsBytes("${") {
            if let resolved = resolveParamReference(text) {
                value = resolved
            } else {
                isTemplated = true
            }
        }

        if !schema.types.isEmpty, !isTemplated || !schema.types.contains("string") {
            if !schema.types.contains(where: { matches(value, type: $0) }) {
                if isTemplated { return }
                violations.append(SchemaViolation(
                    kind: .wrongType(expected: schema.typeDescription, found: jsonType(of: value)), node: node, path: path))
                return
            }
        }
        if isTemplated { return }

        if let allowed = schema.allowedValues, !allowed.contains(where: { equalValues($0, value) }) {
            violations.append(SchemaViolation(kind: .notAllowed(allowed), node: node, path: path))
            return
        }
        if let number = value.doubleValue {
            if let minimum = schema.minimum, number < minimum {
                violations.append(SchemaViolation(kind: .outOfBounds(minimum: schema.minimum, maximum: schema.maximum), node: node, path: path))
            } else if let maximum = schema.maximum, number > maximum {
                violations.append(SchemaViolation(kind: .outOfBounds(minimum: schema.minimum, maximum: schema.maximum), node: node, path: path))
            }
        }
        if case .string(let text) = value {
            let length = text.count
            if let minimum = schema.minLength, length < minimum {
                violations.append(SchemaViolation(kind: .badLength(minimum: schema.minLength, maximum: schema.maxLength, isList: false), node: node, path: path))
            } else if let maximum = schema.maxLength, length > maximum {
                violations.append(SchemaViolation(kind: .badLength(minimum: schema.minLength, maximum: schema.maxLength, isList: false), node: node, path: path))
            } else if let pattern = schema.pattern, !PatternCache.shared.matches(pattern, text) {
                violations.append(SchemaViolation(kind: .patternMismatch(pattern), node: node, path: path))
            }
        }
        if let items = node.sequence {
            if let minimum = schema.minLength, items.count < minimum {
                violations.append(SchemaViolation(kind: .badLength(minimum: schema.minLength, maximum: schema.maxLength, isList: true), node: node, path: path))
            } else if let maximum = schema.maxLength, items.count > maximum {
                violations.append(SchemaViolation(kind: .badLength(minimum: schema.minLength, maximum: schema.maxLength, isList: true), node: node, path: path))
            }
            if let itemSchema = schema.items.first {
                for (index, item) in items.enumerated() {
                    check(item, itemSchema, path: "\(path)[\(index)]", depth: depth + 1, topLevel: false, into: &violations)
                }
            }
        }
        if let pairs = node.mapping {
            checkObject(node, pairs, schema, path: path, depth: depth, topLevel: topLevel, into: &violations)
        }
    }

    private func checkObject(
        _ node: YAMLNode, _ pairs: [YAMLPair], _ schema: JSONSchema, path: String, depth: Int, topLevel: Bool,
        into violations: inout [SchemaViolation]
    ) {
        var present: [String: YAMLPair] = [:]
        for pair in pairs where present[pair.key.keyText] == nil { present[pair.key.keyText] = pair }
        for pair in pairs {
            let key = pair.key.keyText
            let memberPath = path.isEmpty ? key : "\(path).\(key)"
            if topLevel, skippedKeys.contains(key) { continue }
            if let memberSchema = schema.properties[key] {
                check(pair.value, memberSchema, path: memberPath, depth: depth + 1, topLevel: false, into: &violations)
            } else if !schema.additionalProperties {
                violations.append(SchemaViolation(kind: .unknownKey(key), node: pair.key, path: memberPath))
            }
        }
        for key in schema.required where present[key] == nil {
            violations.append(SchemaViolation(kind: .missing([key]), node: node, path: path))
        }
        if !schema.exclusiveRequired.isEmpty {
            let satisfied = schema.exclusiveRequired.filter { group in group.allSatisfy { present[$0] != nil } }
            if satisfied.isEmpty {
                violations.append(SchemaViolation(kind: .missing(schema.exclusiveRequired.flatMap { $0 }), node: node, path: path))
            } else if satisfied.count > 1 {
                // Point at the later of the conflicting keys in the document.
                let keyed = satisfied.compactMap { group in group.compactMap { present[$0] }.first }
                    .sorted { $0.key.range.start < $1.key.range.start }
                let first = keyed[0].key.keyText
                let second = keyed[1]
                violations.append(SchemaViolation(
                    kind: .conflicting(first: first, second: second.key.keyText), node: second.key,
                    path: path.isEmpty ? second.key.keyText : "\(path).\(second.key.keyText)"))
            }
        }
    }

    private func equalValues(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        if let left = lhs.doubleValue, let right = rhs.doubleValue, lhs.typeName != "boolean", rhs.typeName != "boolean" {
            return left == right
        }
        return lhs == rhs
    }
}

/// Compiled patterns, shared by every validation: compiling a pattern costs far more than matching it.
package final class PatternCache: Sendable {
    static let shared = PatternCache()
    private let compiled = TrackedMutex<[String: Regex<AnyRegexOutput>]>([:])

    /// Whether `text` contains a match of `pattern`; an invalid pattern matches nothing.
    func matches(_ pattern: String, _ text: String) -> Bool {
        if let known = Self.knownMatch(pattern, text) { return known }
        return compiled.withLock { compiled in
            if compiled[pattern] == nil, let regex = try? Regex(pattern) { compiled[pattern] = regex }
            guard let regex = compiled[pattern] else { return false }
            return (try? regex.firstMatch(in: text)) != nil
        }
    }

    /// Whether `text` matches one of the patterns of the embedded specs, matched by hand, or nil for
    /// any other pattern. Compiling a Regex was a tenth of linting one file in a fresh process
    /// (bench/startup); RegistryTests checks each of these against Regex on awkward text.
    package static func knownMatch(_ pattern: String, _ text: String) -> Bool? {
        switch pattern {
        case #"^@[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"#:
            guard text.first == "@", let dot = text.firstIndex(of: ".") else { return false }
            let family = text[text.index(after: text.startIndex)..<dot], name = text[text.index(after: dot)...]
            return !family.isEmpty && !name.isEmpty
                && family.allSatisfy { isWordCharacter($0, underscore: true) }
                && name.allSatisfy { isWordCharacter($0, underscore: true) }
        case #"^[A-Za-z0-9-]+$"#:
            return !text.isEmpty && text.allSatisfy { isWordCharacter($0, underscore: false) }
        case #"^https?://"#:
            return text.hasPrefix("http://") || text.hasPrefix("https://")
        case #"^(.|\\t)$"#:
            // One character that is not a line break, or the two characters \t.
            if text == #"\t"# { return true }
            guard let only = text.first, text.count == 1 else { return false }
            return !only.isNewline
        default:
            return nil
        }
    }

    /// Whether `character` is one ASCII letter, digit, `-` or (with `underscore`) `_`.
    private static func isWordCharacter(_ character: Character, underscore: Bool) -> Bool {
        guard character.unicodeScalars.count == 1, let value = character.unicodeScalars.first?.value else { return false }
        switch value {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D: return true
        case 0x5F: return underscore
        default: return false
        }
    }
}
