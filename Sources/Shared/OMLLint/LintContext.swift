import OML
import OsirisCore
import OsirisYAML

/// What the rules of one document share: the parsed document, the registry, the optional connections
/// file and snapshot, and facts computed once (component specs, the step graph, schema violations).
final class LintContext {
    /// The file name used in findings.
    let file: String
    /// The file's text, for positions inside scalars.
    let source: SourceText
    /// The document.
    let document: OMLDocument
    /// The component registry.
    let registry: ComponentRegistry
    /// The connections file, when one was found.
    let connections: ConnectionsFile?
    /// The discovery snapshot, when one was given.
    let snapshot: Snapshot?
    /// Each step's component spec, when its component is known.
    let specs: [ComponentSpec?]
    /// The data flow between steps.
    let graph: StepGraph
    /// Whether components this build cannot run are reported (OML206, by oml-compile only).
    let reportsUnrunnableComponents: Bool

    init(file: String, source: SourceText, document: OMLDocument, registry: ComponentRegistry,
         connections: ConnectionsFile?, snapshot: Snapshot?, reportsUnrunnableComponents: Bool = false) {
        self.reportsUnrunnableComponents = reportsUnrunnableComponents
        self.file = file
        self.source = source
        self.document = document
        self.registry = registry
        self.connections = connections
        self.snapshot = snapshot
        let specs = document.steps.map { step in step.component.flatMap(registry.spec(named:)) }
        self.specs = specs
        graph = StepGraph(document: document) { specs[$0]?.role }
    }

    /// The role of a step's component, when the component is known.
    func role(of step: OMLStep) -> ComponentRole? { specs[step.index]?.role }

    /// Steps whose component is known and that are mappings, with their spec: the steps the config
    /// rules examine.
    lazy var configuredSteps: [(step: OMLStep, spec: ComponentSpec)] = document.steps.compactMap { step in
        guard let spec = specs[step.index], step.node.mapping != nil else { return nil }
        return (step, spec)
    }

    /// The value a string that is exactly one param reference stands for: the param's default.
    func paramValue(forWholeReference text: String) -> JSONValue? {
        guard let name = ParamReference.whole(text), let param = document.param(named: name) else { return nil }
        return param.defaultValue
    }

    private var violationCache: [Int: [SchemaViolation]] = [:]

    /// The schema violations of a step's config (computed once per step).
    func schemaViolations(of step: OMLStep, spec: ComponentSpec) -> [SchemaViolation] {
        if let cached = violationCache[step.index] { return cached }
        var violations: [SchemaViolation] = []
        if let config = step.config, config.mapping != nil {
            let skipped: Set<String> = spec.configSchema.properties["connection"] != nil ? ["connection"] : []
            let validator = SchemaValidator(skippedKeys: skipped) { [weak self] text in
                self?.paramValue(forWholeReference: text)
            }
            violations = validator.validate(config, against: spec.configSchema)
        }
        violationCache[step.index] = violations
        return violations
    }

    /// The connection reference a step names, when it names a well-formed one.
    func connectionReference(of step: OMLStep) -> ConnectionReference? {
        guard let node = step.config?["connection"], let text = node.string else { return nil }
        if let value = paramValue(forWholeReference: text)?.stringValue { return ConnectionReference(parsing: value) }
        return ConnectionReference(parsing: text)
    }

    /// Where to report something found at `offset` (in Unicode scalars) inside a string scalar.
    ///
    /// On a one-line scalar the range is the text itself. A finding inside a multi-line scalar is
    /// reported at the scalar's start (the line of its key, where a `# expect:` marker or a
    /// suppression comment can stand, since comments inside a block are content), with a note
    /// pointing at the exact line and column inside the block.
    func location(in node: YAMLNode, offset: Int, length: Int, what: String) -> (range: SourceRange, notes: [Diagnostic.Note]) {
        let exact = exactRange(in: node, offset: offset, length: length)
        if node.range.start.line == node.range.end.line || exact == node.range { return (exact, []) }
        return (node.range, [Diagnostic.Note("\(what) is here", range: exact)])
    }

    /// The range of `length` Unicode scalars at `offset` inside a string scalar's value, when the
    /// value maps onto the source one to one (plain or quoted on one line without escapes, or a
    /// literal block); otherwise the whole node.
    private func exactRange(in node: YAMLNode, offset: Int, length: Int) -> SourceRange {
        guard let scalar = node.scalar else { return node.range }
        let start = node.range.start
        switch scalar.style {
        case .plain, .singleQuoted, .doubleQuoted:
            guard node.range.start.line == node.range.end.line, let line = source.line(start.line) else { return node.range }
            let quote = scalar.style == .plain ? 0 : 1
            let scalars = Array(line.unicodeScalars)
            let from = start.column - 1 + quote
            let to = from + scalar.text.unicodeScalars.count
            guard from >= 0, to <= scalars.count,
                  String(String.UnicodeScalarView(scalars[from..<to])) == scalar.text
            else { return node.range }
            return SourceRange(
                start: SourcePosition(line: start.line, column: start.column + quote + offset),
                end: SourcePosition(line: start.line, column: start.column + quote + offset + max(length, 1)))
        case .literal:
            // Find the value line holding the offset, then that line in the source, below the indicator.
            let text = Array(scalar.text.unicodeScalars)
            var lineIndex = 0
            var lineStart = 0
            for index in 0..<min(offset, text.count) where text[index] == "\n" {
                lineIndex += 1
                lineStart = index + 1
            }
            var lineEnd = lineStart
            while lineEnd < text.count, text[lineEnd] != "\n" { lineEnd += 1 }
            let valueLine = String(String.UnicodeScalarView(text[lineStart..<lineEnd]))
            let sourceLineNumber = start.line + 1 + lineIndex
            guard let sourceLine = source.line(sourceLineNumber), !valueLine.isEmpty, sourceLine.hasSuffix(valueLine) else {
                return node.range
            }
            let indent = sourceLine.unicodeScalars.count - valueLine.unicodeScalars.count
            let column = indent + 1 + (offset - lineStart)
            return SourceRange(
                start: SourcePosition(line: sourceLineNumber, column: column),
                end: SourcePosition(line: sourceLineNumber, column: column + max(length, 1)))
        case .folded:
            return node.range
        }
    }

    /// Every string scalar under `node` (values, not mapping keys), in document order.
    func strings(under node: YAMLNode) -> [YAMLNode] {
        var result: [YAMLNode] = []
        var stack: [YAMLNode] = [node]
        while let current = stack.popLast() {
            switch current.kind {
            case .scalar(let scalar):
                if case .string = scalar.value { result.append(current) }
            case .sequence(let items):
                stack.append(contentsOf: items.reversed())
            case .mapping(let pairs):
                stack.append(contentsOf: pairs.map(\.value).reversed())
            }
        }
        return result
    }
}
