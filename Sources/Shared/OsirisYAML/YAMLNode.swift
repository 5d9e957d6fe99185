import OsirisCore

/// The way a scalar was written in the source text.
public enum YAMLScalarStyle: Sendable {
    /// An unquoted scalar, resolved under the core schema.
    case plain
    /// A scalar in single quotes.
    case singleQuoted
    /// A scalar in double quotes, with escapes already decoded.
    case doubleQuoted
    /// A `|` block scalar.
    case literal
    /// A `>` block scalar.
    case folded
}

/// The resolved value of a scalar under the YAML 1.2 core schema.
public enum YAMLScalarValue: Sendable, Equatable {
    /// `~`, `null`, or an empty plain scalar.
    case null
    /// `true` or `false` in one of the core schema spellings.
    case bool(Bool)
    /// A decimal, `0o` octal or `0x` hexadecimal integer that fits in `Int`.
    case int(Int)
    /// A floating-point number, including `.inf`, `.nan` and integers too large for `Int`.
    case float(Double)
    /// Any other text, and every quoted or block scalar.
    case string(String)
}

/// A scalar node: its decoded text, how it was written, its explicit tag and its resolved value.
public struct YAMLScalar: Sendable {
    /// The scalar's content after quote and escape processing.
    public let text: String
    /// How the scalar was written.
    public let style: YAMLScalarStyle
    /// The full explicit tag as libyaml resolves it (e.g. `tag:yaml.org,2002:str`), or nil when untagged.
    public let tag: String?
    /// The value under the core schema, honouring an explicit core tag.
    public let value: YAMLScalarValue

    /// Creates a scalar from its parts.
    public init(text: String, style: YAMLScalarStyle, tag: String?, value: YAMLScalarValue) {
        self.text = text
        self.style = style
        self.tag = tag
        self.value = value
    }
}

/// One key-value entry of a mapping.
public struct YAMLPair: Sendable {
    /// The key node, usually a scalar.
    public let key: YAMLNode
    /// The value node.
    public let value: YAMLNode

    /// Creates a pair from a key and a value.
    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// A node of the YAML tree with the source range it was parsed from.
public struct YAMLNode: Sendable {
    /// What a node holds.
    public indirect enum Kind: Sendable {
        /// A scalar value.
        case scalar(YAMLScalar)
        /// A mapping, pairs in source order (duplicates kept, merge keys expanded).
        case mapping([YAMLPair])
        /// A sequence, items in source order.
        case sequence([YAMLNode])
    }

    /// What the node holds.
    public let kind: Kind
    /// Where the node is in the source; for a node reached through an alias, where it was defined.
    public let range: SourceRange
    /// The anchor name defined on this node, if any.
    public let anchor: String?

    /// Creates a node from its kind, range and anchor.
    public init(kind: Kind, range: SourceRange, anchor: String? = nil) {
        self.kind = kind
        self.range = range
        self.anchor = anchor
    }

    /// The scalar, when the node is a scalar.
    public var scalar: YAMLScalar? {
        if case .scalar(let scalar) = kind { return scalar }
        return nil
    }

    /// The pairs, when the node is a mapping.
    public var mapping: [YAMLPair]? {
        if case .mapping(let pairs) = kind { return pairs }
        return nil
    }

    /// The items, when the node is a sequence.
    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = kind { return items }
        return nil
    }

    /// The scalar text, when the node is a scalar whose value resolves to a string.
    public var string: String? {
        if case .scalar(let scalar) = kind, case .string = scalar.value { return scalar.text }
        return nil
    }

    /// The value of the first pair whose key is a scalar with exactly this text, when the node is a mapping.
    public subscript(key: String) -> YAMLNode? {
        pair(key)?.value
    }

    /// The first pair whose key is a scalar with exactly this text, when the node is a mapping.
    public func pair(_ key: String) -> YAMLPair? {
        guard case .mapping(let pairs) = kind else { return nil }
        for pair in pairs {
            if case .scalar(let scalar) = pair.key.kind, scalar.text == key { return pair }
        }
        return nil
    }

    /// A short user-facing name for the node's type: mapping, sequence, string, integer, number, boolean or null.
    public var kindName: String {
        switch kind {
        case .mapping: return "mapping"
        case .sequence: return "sequence"
        case .scalar(let scalar):
            switch scalar.value {
            case .null: return "null"
            case .bool: return "boolean"
            case .int: return "integer"
            case .float: return "number"
            case .string: return "string"
            }
        }
    }
}

/// A mapping key that appears twice in the same mapping.
public struct YAMLDuplicateKey: Sendable {
    /// The key's text.
    public let key: String
    /// Where the key first appears.
    public let first: SourceRange
    /// Where the key appears again.
    public let second: SourceRange

    /// Creates a duplicate-key record from the key and both of its ranges.
    public init(key: String, first: SourceRange, second: SourceRange) {
        self.key = key
        self.first = first
        self.second = second
    }
}

/// A document that is not well-formed YAML, or that the parser refuses (several documents, too deep, alias bomb).
public struct YAMLSyntaxError: Error, Sendable, CustomStringConvertible {
    /// A lowercase description of the problem, e.g. "mapping values are not allowed in this context".
    public let message: String
    /// Where the problem is: never past the input's last character, so the line can be quoted.
    public let range: SourceRange
    /// Where the construct being parsed when the problem was found starts (the `[` of an unclosed
    /// flow sequence), with what it is ("a flow sequence"), when that is elsewhere.
    public let context: (what: String, range: SourceRange)?
    /// Whether the input is not text at all (invalid UTF-8, control characters, UTF-16), so that
    /// quoting a line of it would only print replacement characters.
    public let isBinary: Bool

    /// Creates an error from a message and a range.
    public init(message: String, range: SourceRange, context: (what: String, range: SourceRange)? = nil, isBinary: Bool = false) {
        self.message = message
        self.range = range
        self.context = context
        self.isBinary = isBinary
    }

    /// The error as `line:column: message`.
    public var description: String { "\(range.start): \(message)" }
}

/// One parsed YAML document.
public struct YAMLDocument: Sendable {
    /// The root node, or nil when the document has no content (empty, or comments only).
    public let root: YAMLNode?
    /// Every key repeated within one mapping, in the order the repeats appear.
    public let duplicateKeys: [YAMLDuplicateKey]

    /// Creates a document from its root and its duplicate keys.
    public init(root: YAMLNode?, duplicateKeys: [YAMLDuplicateKey]) {
        self.root = root
        self.duplicateKeys = duplicateKeys
    }
}
