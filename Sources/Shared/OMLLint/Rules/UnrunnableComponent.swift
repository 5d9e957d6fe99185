import OsirisCore

/// OML206: the component is accepted but this build cannot run it (reported by oml-compile only).
struct UnrunnableComponent: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML206", name: "UnrunnableComponent", defaultSeverity: .warning,
        summary: "component this build cannot run (oml-compile only)",
        documentation: """
            Some components are accepted so that OML written for the original tool lints and compiles, \
            but need an engine this build of Osiris does not include: duckdb.processor needs DuckDB. \
            osiris-exec would fail the step only after the steps before it ran, so oml-compile warns \
            when it writes the manifest, naming the step and the component to use instead \
            (sqlite.processor runs the same kind of SQL over the inputs). oml-lint does not report it: \
            the document itself is valid OML. The warning fails the compile only with --strict; the \
            registry marks such components with `x-runnable: false`.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        guard context.reportsUnrunnableComponents else { return }
        for step in context.document.steps {
            guard let spec = context.specs[step.index], !spec.runnable, let node = step.componentNode else { continue }
            findings.append(finding(
                context, at: node.range,
                "step \(step.displayName) uses '\(spec.name)', which this build of Osiris cannot run; osiris-exec will fail the step",
                help: spec.alternative.map { "use '\($0)' instead" }))
        }
    }
}
