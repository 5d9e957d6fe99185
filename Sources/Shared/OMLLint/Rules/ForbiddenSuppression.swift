import OsirisCore

/// OML004: a suppression comment names a rule that cannot be disabled.
struct ForbiddenSuppression: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML004", name: "ForbiddenSuppression", defaultSeverity: .error,
        summary: "suppression comment names a rule that cannot be disabled",
        documentation: """
            Rules without which the manifest would be undefined cannot be disabled: the document's shape \
            (OML001-OML003, OML010, OML013's error, OML014, OML016, OML020), steps, ids, components and \
            modes (OML100-OML102, OML104-OML107, OML109, OML111, OML112, OML200), required and typed \
            config (OML202-OML205), connection references (OML300), literal secrets (OML305) and params \
            (OML307, OML308). Their findings are reported whatever a comment says, and oml-compile \
            re-checks what it relies on. A `# oml-lint: disable=` comment naming one of them is this \
            finding, at the code in the comment, so that nobody believes it silenced something.

            Fix: correct the document instead, and remove the code from the comment. Warnings and \
            judgment rules (OML012, OML015, OML103, OML108, OML110, OML201, OML301, OML303, OML304, \
            OML306, OML400, OML401, ...) stay suppressible.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        for entry in Suppressions(source: context.source).entries where Linter.forbidsSuppression(of: entry.code) {
            findings.append(finding(
                context, at: entry.range, "rule \(entry.code) cannot be disabled; this comment silences nothing",
                help: "fix what \(entry.code) reports and remove it from the comment"))
        }
    }
}
