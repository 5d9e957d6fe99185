import CLibYAML
import OsirisCore

/// Parses YAML text with libyaml's event API into a `YAMLNode` tree that keeps a source range for every node.
public enum YAMLParser {
    /// The deepest nesting of mappings and sequences accepted, aliases included.
    public static let maximumDepth = 256
    /// The most nodes that aliases may add to a document when expanded.
    public static let maximumAliasExpansion = 1_000_000

    /// Parses one YAML document from UTF-8 bytes.
    public static func parse(_ bytes: [UInt8]) throws(YAMLSyntaxError) -> YAMLDocument {
        try bytes.withUnsafeBufferPointer { (buffer) throws(YAMLSyntaxError) -> YAMLDocument in
            try parse(buffer: buffer)
        }
    }

    /// Parses one YAML document from a string (its UTF-8 encoding).
    public static func parse(_ text: String) throws(YAMLSyntaxError) -> YAMLDocument {
        var text = text
        var result: Result<YAMLDocument, YAMLSyntaxError>!
        text.withUTF8 { buffer in
            result = Result { () throws(YAMLSyntaxError) -> YAMLDocument in try parse(buffer: buffer) }
        }
        return try result.get()
    }

    /// Parses one YAML document from a buffer of UTF-8 bytes that stays valid for the duration of the call.
    public static func parse(buffer: UnsafeBufferPointer<UInt8>) throws(YAMLSyntaxError) -> YAMLDocument {
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            return YAMLDocument(root: nil, duplicateKeys: [])
        }
        if buffer.count >= 2,
           (buffer[0] == 0xFE && buffer[1] == 0xFF) || (buffer[0] == 0xFF && buffer[1] == 0xFE) {
            throw YAMLSyntaxError(message: "invalid UTF-8 (the file starts with a UTF-16 byte order mark)", range: .fileStart, isBinary: true)
        }

        // libyaml keeps a pointer to the parser inside the parser, so it must not move: keep it on the heap.
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) != 0 else {
            throw YAMLSyntaxError(message: "out of memory", range: .fileStart)
        }
        defer { yaml_parser_delete(parser) }
        yaml_parser_set_input_string(parser, base, buffer.count)

        let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        event.initialize(to: yaml_event_t())
        defer { event.deallocate() }

        var builder = TreeBuilder()
        while true {
            guard yaml_parser_parse(parser, event) != 0 else {
                throw libyamlError(parser.pointee, input: buffer)
            }
            defer { yaml_event_delete(event) }
            if try builder.handle(event.pointee) { break }
        }
        return builder.document()
    }

    // MARK: - Errors

    static func libyamlError(_ parser: yaml_parser_t, input: UnsafeBufferPointer<UInt8>) -> YAMLSyntaxError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        switch parser.error {
        case YAML_MEMORY_ERROR:
            return YAMLSyntaxError(message: "out of memory", range: .fileStart)
        case YAML_READER_ERROR:
            let position = position(ofByte: Int(parser.problem_offset), in: input)
            // Invalid UTF-8 or a NUL byte: not a text file with one stray character.
            let message = readerMessage(problem, value: parser.problem_value)
            let isBinary = message.hasPrefix("invalid UTF-8") || input.contains(0)
            return YAMLSyntaxError(message: message, range: SourceRange(start: position), isBinary: isBinary)
        default:
            var message = problem
            // At the end of the input libyaml points past the last line, where there is nothing to
            // quote: point at the end of the last line that has content instead.
            let last = lastContentPosition(in: input)
            var start = position(parser.problem_mark)
            if start > last { start = last }
            var context: (String, SourceRange)?
            if let text = parser.context.map({ String(cString: $0) }) {
                message += " (\(text))"
                let contextStart = position(parser.context_mark)
                let what = text.replacingPrefix("while parsing ").replacingPrefix("while scanning ")
                // A plain scalar's start says nothing the problem position does not.
                if contextStart < start, what.hasPrefix("a "), what != "a plain scalar" {
                    context = (what, SourceRange(start: contextStart))
                }
            }
            return YAMLSyntaxError(message: message, range: SourceRange(start: start), context: context)
        }
    }

    /// The position just after the last character of the input that is not a space or a line break
    /// (line 1, column 1 for an input of only spaces).
    static func lastContentPosition(in input: UnsafeBufferPointer<UInt8>) -> SourcePosition {
        var end = input.count
        while end > 0, [0x20, 0x09, 0x0A, 0x0D].contains(input[end - 1]) { end -= 1 }
        return position(ofByte: end, in: input)
    }

    static func hex(_ value: Int32, digits: Int) -> String {
        let text = String(UInt32(bitPattern: value), radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// Turns libyaml's reader problems into wording a user understands.
    static func readerMessage(_ problem: String, value: Int32) -> String {
        switch problem {
        case "invalid leading UTF-8 octet":
            return "invalid UTF-8 (byte 0x\(hex(value, digits: 2)) cannot start a character)"
        case "invalid trailing UTF-8 octet":
            return "invalid UTF-8 (byte 0x\(hex(value, digits: 2)) cannot continue a character)"
        case "incomplete UTF-8 octet sequence":
            return "invalid UTF-8 (incomplete character at the end of the input)"
        case "invalid length of a UTF-8 sequence":
            return "invalid UTF-8 (overlong encoding)"
        case "invalid Unicode character":
            return "invalid UTF-8 (encodes the invalid code point U+\(hex(value, digits: 4)))"
        case "control characters are not allowed":
            return "control characters are not allowed (found U+\(hex(value, digits: 4)))"
        default:
            return problem.lowercased()
        }
    }

    @inline(__always)
    static func position(_ mark: yaml_mark_t) -> SourcePosition {
        SourcePosition(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    /// The 1-based line and column (in Unicode scalars) of a byte offset; `\n`, `\r\n` and a lone `\r` end a line.
    static func position(ofByte offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> SourcePosition {
        let end = min(max(offset, 0), bytes.count)
        var line = 1
        var lineStart = 0
        // libyaml skips a UTF-8 byte order mark without counting it as a column.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { lineStart = min(3, end) }
        var index = lineStart
        while index < end {
            let byte = bytes[index]
            if byte == 0x0A || (byte == 0x0D && (index + 1 == bytes.count || bytes[index + 1] != 0x0A)) {
                line += 1
                lineStart = index + 1
            }
            index += 1
        }
        var column = 1
        for index in lineStart..<end where bytes[index] & 0xC0 != 0x80 { column += 1 }
        return SourcePosition(line: line, column: column)
    }
}

/// Builds the node tree from libyaml events with an explicit stack, so nesting depth never recurses.
struct TreeBuilder {
    struct Anchor {
        var node: YAMLNode
        /// Nodes in the subtree, aliases expanded.
        var size: Int
        /// Collection levels in the subtree (0 for a scalar).
        var height: Int
    }

    struct Frame {
        let isMapping: Bool
        let isFlow: Bool
        let start: SourcePosition
        let anchor: String?
        /// End of the last child as it occurs in the source (block collections end there).
        var lastEnd: SourcePosition?
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        var pendingKey: YAMLNode?
        var pendingKeyIsMerge = false
        /// First occurrence of each scalar key, built once a mapping outgrows a linear scan.
        var keyIndex: [String: SourceRange]?
        /// Where keys that came from aliases occur, by pair index (their nodes carry the anchor's range).
        var aliasKeyRanges: [Int: SourceRange]?
        /// Indices in `pairs` of `<<` merge pairs.
        var mergeIndices: [Int] = []
        var size = 1
        var height = 1

        init(isMapping: Bool, isFlow: Bool, start: SourcePosition, anchor: String?) {
            self.isMapping = isMapping
            self.isFlow = isFlow
            self.start = start
            self.anchor = anchor
        }
    }

    static let mergeTag = "tag:yaml.org,2002:merge"
    static let linearKeyLimit = 8

    /// The innermost open collection; at the bottom, a document frame whose only item is the root.
    var top = Frame(isMapping: false, isFlow: false, start: .start, anchor: nil)
    /// The open collections enclosing `top`, outermost first (its count is the current nesting depth).
    var parents: [Frame] = []
    var anchors: [String: Anchor] = [:]
    var duplicateKeys: [YAMLDuplicateKey] = []
    var documentCount = 0
    var aliasExpansion = 0

    init() {
        parents.reserveCapacity(16)
    }

    /// How many collections are open.
    var depth: Int { parents.count }

    func document() -> YAMLDocument {
        var root = parents.isEmpty ? top.items.first : parents[0].items.first
        if let node = root, node.anchor == nil, case .scalar(let scalar) = node.kind,
           scalar.style == .plain, scalar.tag == nil, scalar.text.isEmpty {
            root = nil // `---` with nothing after it
        }
        return YAMLDocument(root: root, duplicateKeys: duplicateKeys)
    }

    @inline(__always)
    static func range(_ start: yaml_mark_t, _ end: yaml_mark_t) -> SourceRange {
        SourceRange(start: YAMLParser.position(start), end: YAMLParser.position(end))
    }

    /// A range at least one character wide, for errors.
    static func errorRange(_ start: yaml_mark_t, _ end: yaml_mark_t) -> SourceRange {
        let start = YAMLParser.position(start)
        let end = YAMLParser.position(end)
        return SourceRange(start: start, end: end > start ? end : nil)
    }

    static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        var length = 0
        while pointer[length] != 0 { length += 1 }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// Handles one event; returns true at the end of the stream.
    mutating func handle(_ event: yaml_event_t) throws(YAMLSyntaxError) -> Bool {
        switch event.type {
        case YAML_SCALAR_EVENT:
            try scalar(event)
        case YAML_MAPPING_START_EVENT:
            try push(event, isMapping: true, anchor: event.data.mapping_start.anchor,
                     isFlow: event.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE)
        case YAML_SEQUENCE_START_EVENT:
            try push(event, isMapping: false, anchor: event.data.sequence_start.anchor,
                     isFlow: event.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE)
        case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
            try pop(event)
        case YAML_ALIAS_EVENT:
            try alias(event)
        case YAML_DOCUMENT_START_EVENT:
            if documentCount > 0 {
                throw YAMLSyntaxError(message: "expected a single YAML document",
                                      range: Self.errorRange(event.start_mark, event.end_mark))
            }
            documentCount += 1
        case YAML_STREAM_END_EVENT:
            return true
        default:
            break
        }
        return false
    }

    mutating func scalar(_ event: yaml_event_t) throws(YAMLSyntaxError) {
        let data = event.data.scalar
        let bytes = UnsafeBufferPointer(start: data.value, count: data.length)
        let text = String(decoding: bytes, as: UTF8.self)
        let style: YAMLScalarStyle
        switch data.style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: style = .literal
        case YAML_FOLDED_SCALAR_STYLE: style = .folded
        default: style = .plain
        }
        let tag = Self.string(data.tag)
        let value: YAMLScalarValue
        if let tag {
            value = ScalarResolver.resolveTagged(bytes, text: text, tag: tag)
        } else if style == .plain {
            value = ScalarResolver.resolvePlain(bytes, text: text)
        } else {
            value = .string(text)
        }
        let anchor = Self.string(data.anchor)
        let range = Self.range(event.start_mark, event.end_mark)
        let node = YAMLNode(kind: .scalar(YAMLScalar(text: text, style: style, tag: tag, value: value)),
                            range: range, anchor: anchor)
        if let anchor { anchors[anchor] = Anchor(node: node, size: 1, height: 0) }
        try attach(node, occurrence: range, size: 1, height: 0)
    }

    mutating func push(_ event: yaml_event_t, isMapping: Bool, anchor: UnsafeMutablePointer<yaml_char_t>?,
                       isFlow: Bool) throws(YAMLSyntaxError) {
        guard depth < YAMLParser.maximumDepth else {
            throw YAMLSyntaxError(message: "nesting deeper than \(YAMLParser.maximumDepth) levels",
                                  range: Self.errorRange(event.start_mark, event.end_mark))
        }
        parents.append(top)
        top = Frame(isMapping: isMapping, isFlow: isFlow, start: YAMLParser.position(event.start_mark),
                    anchor: Self.string(anchor))
    }

    mutating func pop(_ event: yaml_event_t) throws(YAMLSyntaxError) {
        guard !parents.isEmpty else { return }
        var frame = top
        top = parents.removeLast() // no other binding may keep the parent's buffers alive, or appends copy them
        let end: SourcePosition
        if frame.isFlow {
            end = YAMLParser.position(event.end_mark)
        } else {
            end = frame.lastEnd ?? YAMLParser.position(event.start_mark)
        }
        let range = SourceRange(start: frame.start, end: max(end, frame.start))
        let kind: YAMLNode.Kind
        if frame.isMapping {
            if let key = frame.pendingKey {
                // Cannot happen with libyaml's events; keep the key rather than lose it.
                frame.pairs.append(YAMLPair(key: key, value: YAMLNode(
                    kind: .scalar(YAMLScalar(text: "", style: .plain, tag: nil, value: .null)),
                    range: SourceRange(start: end, end: end))))
            }
            kind = .mapping(frame.mergeIndices.isEmpty ? frame.pairs : Self.merged(frame))
        } else {
            kind = .sequence(frame.items)
        }
        let node = YAMLNode(kind: kind, range: range, anchor: frame.anchor)
        if let anchor = frame.anchor { anchors[anchor] = Anchor(node: node, size: frame.size, height: frame.height) }
        try attach(node, occurrence: range, size: frame.size, height: frame.height)
    }

    mutating func alias(_ event: yaml_event_t) throws(YAMLSyntaxError) {
        let name = Self.string(event.data.alias.anchor) ?? ""
        let range = Self.errorRange(event.start_mark, event.end_mark)
        guard let target = anchors[name] else {
            throw YAMLSyntaxError(message: "undefined alias \"\(name)\"", range: range)
        }
        if depth + target.height > YAMLParser.maximumDepth {
            throw YAMLSyntaxError(message: "nesting deeper than \(YAMLParser.maximumDepth) levels", range: range)
        }
        aliasExpansion += target.size
        if aliasExpansion > YAMLParser.maximumAliasExpansion {
            throw YAMLSyntaxError(
                message: "document expands to more than \(YAMLParser.maximumAliasExpansion) nodes through aliases",
                range: range)
        }
        try attach(target.node, occurrence: Self.range(event.start_mark, event.end_mark),
                   size: target.size, height: target.height)
    }

    /// Adds a finished node to the innermost open collection (the document frame for the root).
    mutating func attach(_ node: YAMLNode, occurrence: SourceRange, size: Int, height: Int) throws(YAMLSyntaxError) {
        top.size += size
        if height + 1 > top.height { top.height = height + 1 }
        top.lastEnd = occurrence.end
        if !top.isMapping {
            top.items.append(node)
            return
        }
        guard let key = top.pendingKey else {
            top.pendingKey = node
            top.pendingKeyIsMerge = false
            if case .scalar(let scalar) = node.kind {
                if Self.isMergeKey(scalar) {
                    top.pendingKeyIsMerge = true
                } else {
                    noteKey(scalar.text, range: occurrence)
                }
            }
            if occurrence != node.range {
                top.aliasKeyRanges = top.aliasKeyRanges ?? [:]
                top.aliasKeyRanges![top.pairs.count] = occurrence
            }
            return
        }
        if top.pendingKeyIsMerge {
            guard Self.isMergeable(node) else {
                throw YAMLSyntaxError(message: "the value of a merge key (<<) must be a mapping or a sequence of mappings",
                                      range: occurrence)
            }
            top.mergeIndices.append(top.pairs.count)
        }
        top.pairs.append(YAMLPair(key: key, value: node))
        top.pendingKey = nil
        top.pendingKeyIsMerge = false
    }

    static func isMergeKey(_ scalar: YAMLScalar) -> Bool {
        scalar.style == .plain && scalar.text == "<<" && (scalar.tag == nil || scalar.tag == mergeTag)
    }

    /// Records a scalar key of the innermost mapping, reporting it when it repeats an earlier key.
    mutating func noteKey(_ text: String, range: SourceRange) {
        if top.keyIndex != nil {
            if let first = top.keyIndex![text] {
                duplicateKeys.append(YAMLDuplicateKey(key: text, first: first, second: range))
            } else {
                top.keyIndex![text] = range
            }
            return
        }
        for index in top.pairs.indices {
            guard case .scalar(let scalar) = top.pairs[index].key.kind, scalar.text == text,
                  !Self.isMergeKey(scalar) else { continue }
            let first = top.aliasKeyRanges?[index] ?? top.pairs[index].key.range
            duplicateKeys.append(YAMLDuplicateKey(key: text, first: first, second: range))
            return
        }
        if top.pairs.count >= Self.linearKeyLimit {
            var keyIndex: [String: SourceRange] = [:]
            keyIndex.reserveCapacity(top.pairs.count * 2)
            for (index, pair) in top.pairs.enumerated() {
                guard case .scalar(let scalar) = pair.key.kind, !Self.isMergeKey(scalar),
                      keyIndex[scalar.text] == nil else { continue }
                keyIndex[scalar.text] = top.aliasKeyRanges?[index] ?? pair.key.range
            }
            keyIndex[text] = range
            top.keyIndex = keyIndex
        }
    }

    static func isMergeable(_ node: YAMLNode) -> Bool {
        switch node.kind {
        case .mapping: return true
        case .sequence(let items):
            for item in items {
                guard case .mapping = item.kind else { return false }
            }
            return true
        case .scalar: return false
        }
    }

    /// The frame's pairs with each `<<` pair replaced by the merged mappings' pairs whose keys are not present yet.
    static func merged(_ frame: Frame) -> [YAMLPair] {
        var present = Set<String>()
        var mergeIndices = Set(frame.mergeIndices)
        for (index, pair) in frame.pairs.enumerated() where !mergeIndices.contains(index) {
            if case .scalar(let scalar) = pair.key.kind { present.insert(scalar.text) }
        }
        var result: [YAMLPair] = []
        result.reserveCapacity(frame.pairs.count)
        for (index, pair) in frame.pairs.enumerated() {
            guard mergeIndices.remove(index) != nil else {
                result.append(pair)
                continue
            }
            let sources: [YAMLNode]
            switch pair.value.kind {
            case .mapping: sources = [pair.value]
            case .sequence(let items): sources = items
            case .scalar: sources = []
            }
            for source in sources {
                guard case .mapping(let sourcePairs) = source.kind else { continue }
                for sourcePair in sourcePairs {
                    if case .scalar(let scalar) = sourcePair.key.kind {
                        guard present.insert(scalar.text).inserted else { continue }
                    }
                    result.append(sourcePair)
                }
            }
        }
        return result
    }
}

extension String {
    /// The string without `prefix` when it starts with it.
    fileprivate func replacingPrefix(_ prefix: String) -> String {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }
}
