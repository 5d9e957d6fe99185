import Foundation
import Testing

/// The installed tools must run on a Debian machine without a Swift toolchain (and inside a sandbox that
/// has only the binary): the release build links the Swift runtime statically, and `ldd` shows only
/// system libraries. They must also start fast (bench/startup), so neither Foundation nor ICU is in
/// them, dynamically or statically; FoundationEssentials, which swift-argument-parser uses, is allowed.
/// `make test` builds the release tools and names their folder in `OSIRIS_RELEASE_BIN`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["OSIRIS_RELEASE_BIN"] != nil,
                "OSIRIS_RELEASE_BIN is not set: run through make test"))
struct LinkageTests {
    static let tools = ["oml-lint", "oml-compile", "osiris-exec", "osiris-discover", "osiris-chat"]

    static var releaseBin: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["OSIRIS_RELEASE_BIN"] ?? "")
    }

    /// How each release tool is linked (scripts/build-release says why): oml-lint static, oml-compile
    /// dynamic but position-dependent, the network-facing tools position-independent.
    static let linkage: [String: (type: String, interpreter: Bool)] = [
        "oml-lint": ("EXEC", false), "oml-compile": ("EXEC", true),
        "osiris-exec": ("DYN", true), "osiris-discover": ("DYN", true), "osiris-chat": ("DYN", true),
    ]

    @Test(arguments: tools)
    func isLinkedAsDecided(_ tool: String) throws {
        let binary = Self.releaseBin.appendingPathComponent(tool).path
        let readelf = try ToolHarness.run("readelf", ["-h", "-l", "-W", binary])
        #expect(readelf.status == 0, "\(readelf.stderr)")
        let type = readelf.stdout.split(separator: "\n").first { $0.contains("Type:") }?.split(separator: " ").dropFirst().first
        let expected = try #require(Self.linkage[tool])
        #expect(type.map(String.init) == expected.type, "\(tool): \(type ?? "no type")")
        #expect(readelf.stdout.contains("INTERP") == expected.interpreter, "\(tool): a program interpreter or not")
    }

    /// A static executable loads no library: `ldd` says so and exits 1.
    static func isStatic(_ ldd: ToolHarness.Run) -> Bool {
        ldd.status == 1 && (ldd.stdout + ldd.stderr).contains("not a dynamic executable")
    }

    @Test(arguments: tools)
    func linksNoSwiftRuntime(_ tool: String) throws {
        let binary = Self.releaseBin.appendingPathComponent(tool).path
        #expect(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is not built")
        let ldd = try ToolHarness.run("ldd", [binary])
        if Self.linkage[tool]?.interpreter == false {
            #expect(Self.isStatic(ldd), "\(tool): \(ldd.stdout)\(ldd.stderr)")
            return
        }
        #expect(ldd.status == 0, "\(ldd.stderr)")
        let libraries = ldd.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(!libraries.isEmpty)
        for line in libraries {
            #expect(!line.contains("not found"), "\(tool): \(line)")
            #expect(!line.contains("libswift"), "\(tool) loads the Swift runtime dynamically: \(line)")
            #expect(!line.contains("libFoundation") && !line.contains("lib_FoundationICU") && !line.contains("libdispatch"),
                    "\(tool) loads Foundation or Dispatch dynamically: \(line)")
            #expect(!line.contains("/opt/swift") && !line.contains("/usr/lib/swift"), "\(tool) loads from the toolchain: \(line)")
        }
    }

    /// Neither `ldd` nor the symbol table shows Foundation or ICU: a static copy hides from `ldd`, and
    /// costs start-up all the same (relocations, a longer protocol conformance table).
    @Test(arguments: tools)
    func linksNoFoundationOrICU(_ tool: String) throws {
        let binary = Self.releaseBin.appendingPathComponent(tool).path
        let ldd = try ToolHarness.run("ldd", [binary])
        #expect(ldd.status == 0 || Self.isStatic(ldd), "\(ldd.stderr)")
        for line in ldd.stdout.split(separator: "\n") {
            #expect(!line.contains("libFoundation") && !line.contains("libicu") && !line.contains("FoundationICU"),
                    "\(tool) loads Foundation or ICU: \(line)")
        }
        let nm = try ToolHarness.run("nm", [binary])
        #expect(nm.status == 0, "\(nm.stderr)")
        let symbols = nm.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last }
        // A stripped binary would pass the checks below without proving anything.
        #expect(symbols.contains { $0.hasPrefix("$s14ArgumentParser") }, "\(tool) has no Swift symbols to check")
        let foundation = symbols.filter { $0.contains("10Foundation") || $0.contains("26FoundationInternationalization") }
        #expect(foundation.isEmpty, "\(tool) carries Foundation: \(foundation.prefix(5))")
        let icu = symbols.filter { Self.isICUSymbol($0) }
        #expect(icu.isEmpty, "\(tool) carries ICU: \(icu.prefix(5))")
    }

    /// ICU's C functions: `u_` and the service prefixes (`ucol_`, `ubrk_`, `ures_`, ...), with or
    /// without a version suffix.
    static func isICUSymbol(_ symbol: Substring) -> Bool {
        let prefixes = ["u_", "ucol_", "ubrk_", "ures_", "ucal_", "udat_", "unum_", "uloc_", "unorm_", "unorm2_", "utrans_", "uset_",
                        "ucnv_", "uregex_", "ustr_", "utext_"]
        return prefixes.contains { symbol.hasPrefix($0) }
    }

    @Test func icuSymbolsAreRecognised() {
        #expect(Self.isICUSymbol("ucol_nextProcessed"))
        #expect(Self.isICUSymbol("u_strIsWellFormed"))
        #expect(!Self.isICUSymbol("uname"))
        #expect(!Self.isICUSymbol("$s14ArgumentParser7CommandV"))
    }

    /// With no library path at all the tool still starts: nothing comes from the toolchain's folders.
    @Test(arguments: tools)
    func runsWithoutTheToolchain(_ tool: String) throws {
        let binary = Self.releaseBin.appendingPathComponent(tool).path
        let run = try ToolHarness.run(binary, ["--version"], environment: ["LD_LIBRARY_PATH": ""])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix(tool), "\(run.stdout)")
    }
}
