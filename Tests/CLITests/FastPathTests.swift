import ArgumentParser
@testable import oml_compile
@testable import oml_lint
import OsirisCLI
import Testing

/// The fast paths of oml-lint and oml-compile (issue 12, bench/startup) skip ArgumentParser's parse.
/// For every command line they accept, what they build must be what ArgumentParser's parse gives:
/// oml-lint's request compared as a value, oml-compile's command through the full reflection of both
/// values, so an option the fast path forgets (left unparsed) or a default it spells differently
/// fails here. Every other command line must be left to ArgumentParser, which keeps its messages,
/// `--help` and exit statuses.
struct FastPathTests {
    static let lintAccepted: [[String]] = [
        [], ["p.oml"], ["-"], [""], ["--strict", "a.oml", "b.oml"], ["--format", "json", "p.oml"],
        ["--format=sarif", "p.oml"], ["p.oml", "--format", "github", "q.oml"],
        ["--connections", "c.yaml", "--snapshot", "s.json", "--stdin-filename", "x.oml", "-"],
        ["--connections=c.yaml", "--snapshot=s.json", "--stdin-filename=-x", "p.oml"],
        ["--list-rules", "--format", "json"], ["--explain", "OML101"], ["--explain=oml999"],
    ]

    static let lintRefused: [[String]] = [
        ["--help"], ["-h"], ["--version"], ["--version", "p.oml"], ["--format", "xml", "x.oml"], ["--frobnicate"],
        ["--strict", "--strict", "p.oml"], ["--format", "json", "--format", "text"], ["--format"],
        ["--format", "--strict"], ["--connections", "-", "p.oml"], ["--", "p.oml"], ["-x"], ["--strict=true"],
        ["--generate-completion-script", "bash"], ["--generate-completion-script"], ["--experimental-dump-help"],
        ["---completion", "--", "--format"], ["-o", "x", "p.oml"],
    ]

    @Test(arguments: lintAccepted)
    func lintBuildsWhatArgumentParserBuilds(_ arguments: [String]) throws {
        let fast = try #require(LintRequest(fastArguments: arguments))
        #expect(fast == LintRequest(try OMLLintCommand.parse(arguments)))
    }

    @Test(arguments: lintRefused)
    func lintLeavesTheRestToArgumentParser(_ arguments: [String]) {
        #expect(LintRequest(fastArguments: arguments) == nil)
    }

    /// The comparison of oml-compile's commands below can fail: commands that differ in one value
    /// reflect differently, and so does one whose options were never set.
    @Test func reflectionShowsEveryValue() throws {
        let fast = try #require(OMLCompileCommand.fastCommand(["--format", "json", "p.oml"]))
        #expect(String(reflecting: fast) != String(reflecting: try OMLCompileCommand.parse(["--format", "text", "p.oml"])))
        #expect(String(reflecting: fast) != String(reflecting: try OMLCompileCommand.parse(["--format", "json", "q.oml"])))
        #expect(String(reflecting: fast) != String(reflecting: OMLCompileCommand()))
    }

    static let compileAccepted: [[String]] = [
        [], ["p.oml"], ["-"], ["-o", "out.json", "p.oml"], ["--output=out.json", "--check", "p.oml"],
        ["--param", "a=1", "--param=b=2", "--profile", "dev", "p.oml"],
        ["--depfile", "d.d", "-o", "o.json", "--format", "json", "--strict", "--connections", "c.yaml",
         "--snapshot", "s.json", "--stdin-filename", "n.oml", "-"],
    ]

    static let compileRefused: [[String]] = [
        ["a.oml", "b.oml"], ["--check", "p.oml"], ["--check", "-o", "-", "p.oml"], ["--depfile", "d.d", "p.oml"],
        ["-o", "x", "--output", "y", "p.oml"], ["-ox", "p.oml"], ["--help"], ["--version"], ["--profile"],
        ["--format", "yaml", "p.oml"], ["--check=yes", "-o", "x", "p.oml"],
    ]

    @Test(arguments: compileAccepted)
    func compileBuildsWhatArgumentParserBuilds(_ arguments: [String]) throws {
        let fast = try #require(OMLCompileCommand.fastCommand(arguments))
        let parsed = try OMLCompileCommand.parse(arguments)
        #expect(String(reflecting: fast) == String(reflecting: parsed))
    }

    @Test(arguments: compileRefused)
    func compileLeavesTheRestToArgumentParser(_ arguments: [String]) {
        #expect(OMLCompileCommand.fastCommand(arguments) == nil)
    }

    @Test func splitsOptionsFlagsAndPositionals() throws {
        let line = try #require(FastCommandLine(
            ["a", "--param", "x=1", "-o", "out", "--strict", "-", "--param=y=2", "b"], flags: ["strict"],
            options: ["param", "output"], repeatable: ["param"], shortNames: [("o", "output")]))
        #expect(line.positionals == ["a", "-", "b"])
        #expect(line.values("param") == ["x=1", "y=2"])
        #expect(line.value("output") == "out")
        #expect(line.value("profile") == nil)
        #expect(line.flags == ["strict"])
        #expect(line.value("param") == "y=2")
        #expect(line.has("strict") && !line.has("check"))
    }
}
