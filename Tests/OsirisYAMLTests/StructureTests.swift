import OsirisCore
import OsirisYAML
import Testing

@Suite("Duplicates, anchors, aliases and merge keys")
struct StructureTests {
    @Test func duplicateKeysKeepBothPairs() throws {
        let document = try YAMLParser.parse("a: 1\nb: 2\n\"a\": 3\nnested:\n  a: 4\n  x: 5\n  x: 6\n")
        #expect(document.duplicateKeys.count == 2)
        let first = try #require(document.duplicateKeys.first)
        #expect(first.key == "a")
        #expect(first.first == span(1, 1, 1, 2))
        #expect(first.second == span(3, 1, 3, 4))
        let second = document.duplicateKeys[1]
        #expect(second.key == "x")
        #expect(second.first == span(6, 3, 6, 4))
        #expect(second.second == span(7, 3, 7, 4))
        let node = try #require(document.root)
        #expect(node.keys == ["a", "b", "a", "nested"])
        #expect(node["a"]?.scalar?.value == .int(1)) // the subscript finds the first
        #expect(node["nested"]?.keys == ["a", "x", "x"])
    }

    @Test func duplicateKeysInLargeMappings() throws {
        var text = ""
        for index in 0..<40 { text += "k\(index): \(index)\n" }
        text += "k3: again\nk39: again\n"
        let document = try YAMLParser.parse(text)
        #expect(document.duplicateKeys.map(\.key) == ["k3", "k39"])
        #expect(document.duplicateKeys[0].first == span(4, 1, 4, 3))
        #expect(document.duplicateKeys[0].second == span(41, 1, 41, 3))
        #expect(document.duplicateKeys[1].first == span(40, 1, 40, 4))
        #expect(document.root?.mapping?.count == 42)
    }

    @Test func duplicateThroughAliasKeyUsesTheAliasPosition() throws {
        let document = try YAMLParser.parse("k: &name x\nm:\n  x: 1\n  *name : 2\n")
        let duplicate = try #require(document.duplicateKeys.first)
        #expect(duplicate.key == "x")
        #expect(duplicate.first == span(3, 3, 3, 4))
        #expect(duplicate.second == span(4, 3, 4, 8))
    }

    @Test func repeatedMergeKeysAreNotDuplicates() throws {
        let document = try YAMLParser.parse("a: &a {x: 1}\nb: &b {y: 2}\nm:\n  <<: *a\n  <<: *b\n")
        #expect(document.duplicateKeys.isEmpty)
        #expect(document.root?["m"]?.keys == ["x", "y"])
    }

    @Test func sameKeysInSiblingMappingsAreNotDuplicates() throws {
        let document = try YAMLParser.parse("steps:\n  - id: a\n  - id: b\nx: {id: c}\n")
        #expect(document.duplicateKeys.isEmpty)
    }

    @Test func aliasCopiesTheAnchoredNode() throws {
        let node = try root("base: &b {x: 1, y: [2, 3]}\nuse: *b\nlist: [&s hello, *s]\n")
        let base = try #require(node["base"])
        #expect(base.anchor == "b")
        let use = try #require(node["use"])
        #expect(use.keys == ["x", "y"])
        #expect(use.range == span(1, 7, 1, 27)) // the definition's range
        #expect(use["x"]?.range == span(1, 14, 1, 15))
        #expect(node.at("list", 1)?.string == "hello")
        #expect(node.at("list", 1)?.range == span(3, 8, 3, 16))
    }

    @Test func anchorsCanBeRedefined() throws {
        let node = try root("- &a one\n- *a\n- &a two\n- *a\n")
        #expect(node.sequence?.map { $0.string ?? "" } == ["one", "one", "two", "two"])
    }

    @Test func recursiveAliasIsUndefined() throws {
        let error = try #require(syntaxError("a: &a [*a]\n"))
        #expect(error.message == "undefined alias \"a\"")
        #expect(error.range == span(1, 8, 1, 10))
    }

    @Test func mergeKeyExplicitKeysWin() throws {
        let document = try YAMLParser.parse("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n")
        let m = try #require(document.root?["m"])
        #expect(m.keys == ["x", "y"])
        #expect(m["x"]?.scalar?.value == .int(1))
        #expect(m["y"]?.scalar?.value == .int(3))
        #expect(document.duplicateKeys.isEmpty)
    }

    @Test func mergeKeyAfterExplicitKeys() throws {
        let m = try root("a: &a {x: 1, y: 2, z: 3}\nm: {y: 9, <<: *a, w: 0}\n")["m"]
        #expect(m?.keys == ["y", "x", "z", "w"])
        #expect(m?["y"]?.scalar?.value == .int(9))
    }

    @Test func mergeListEarlierWins() throws {
        let text = """
            a: &a {x: a, y: a}
            b: &b {y: b, z: b}
            m:
              <<: [*a, *b]
              z: own
            """
        let document = try YAMLParser.parse(text)
        let m = try #require(document.root?["m"])
        #expect(m.keys == ["x", "y", "z"])
        #expect(m["y"]?.string == "a")
        #expect(m["z"]?.string == "own")
        #expect(document.duplicateKeys.isEmpty)
    }

    @Test func mergeInlineMappingAndNestedMerges() throws {
        let text = """
            defaults: &d
              retry: {attempts: 3}
              mode: read
            step: &s
              <<: *d
              id: one
            other:
              <<: [*s, {extra: true}]
              id: two
            """
        let node = try root(text)
        #expect(node["step"]?.keys == ["retry", "mode", "id"])
        let other = try #require(node["other"])
        #expect(other.keys == ["retry", "mode", "extra", "id"])
        #expect(other["id"]?.string == "two")
        #expect(other.at("retry", "attempts")?.scalar?.value == .int(3))
        #expect(other["extra"]?.scalar?.value == .bool(true))
    }

    @Test func quotedMergeKeyIsAnOrdinaryKey() throws {
        let node = try root("\"<<\": 1\n")
        #expect(node.keys == ["<<"])
    }

    @Test func mergeOfSequenceWithScalarIsRejected() throws {
        let error = try #require(syntaxError("a: &a {x: 1}\nm:\n  <<: [*a, 2]\n"))
        #expect(error.message == "the value of a merge key (<<) must be a mapping or a sequence of mappings")
        #expect(error.range == span(3, 7, 3, 14))
    }

    @Test func aliasBombIsRejected() throws {
        var text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let items = Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ")
            text += "l\(level): &l\(level) [\(items)]\n"
        }
        let error = try #require(syntaxError(text))
        #expect(error.message == "document expands to more than 1000000 nodes through aliases")
        #expect(error.range.start.line == 6) // inside l5
    }

    @Test func moderateAliasUseIsFine() throws {
        var text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...3 {
            let items = Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ")
            text += "l\(level): &l\(level) [\(items)]\n"
        }
        let node = try root(text)
        #expect(node.at("l3", 9, 9, 9, 9)?.string == "x")
    }
}

@Suite("Scalar resolution")
struct ResolutionTests {
    static let plain: [(String, YAMLScalarValue)] = [
        ("~", .null), ("null", .null), ("Null", .null), ("NULL", .null), ("nULL", .string("nULL")),
        ("true", .bool(true)), ("True", .bool(true)), ("TRUE", .bool(true)), ("tRUE", .string("tRUE")),
        ("false", .bool(false)), ("False", .bool(false)), ("FALSE", .bool(false)),
        ("yes", .string("yes")), ("no", .string("no")), ("on", .string("on")), ("y", .string("y")),
        ("0", .int(0)), ("42", .int(42)), ("-17", .int(-17)), ("+5", .int(5)), ("007", .int(7)), ("-0", .int(0)),
        ("9223372036854775807", .int(Int.max)), ("-9223372036854775808", .int(Int.min)),
        ("9223372036854775808", .float(9_223_372_036_854_775_808)),
        ("0o17", .int(15)), ("0x1F", .int(31)), ("0xff", .int(255)), ("0o8", .string("0o8")), ("0x", .string("0x")),
        ("0xFFFFFFFFFFFFFFFFF", .float(295_147_905_179_352_825_856)),
        ("1.5", .float(1.5)), ("-1.5", .float(-1.5)), (".5", .float(0.5)), ("+.5", .float(0.5)), ("1.", .float(1)),
        ("1e3", .float(1000)), ("1.5E-2", .float(0.015)), ("2.e+2", .float(200)), (".5e1", .float(5)),
        (".inf", .float(.infinity)), ("-.Inf", .float(-.infinity)), ("+.INF", .float(.infinity)),
        ("1e", .string("1e")), ("1.2.3", .string("1.2.3")), (".", .string(".")), ("-x", .string("-x")),
        ("+", .string("+")), ("e3", .string("e3")), ("1_000", .string("1_000")), ("0b101", .string("0b101")),
        ("1:20", .string("1:20")), ("2024-01-01", .string("2024-01-01")), ("-.nan", .string("-.nan")),
        ("hello world", .string("hello world")), ("nullx", .string("nullx")), ("~x", .string("~x")),
    ]

    @Test(arguments: plain)
    func plainScalars(_ text: String, _ expected: YAMLScalarValue) throws {
        let node = try root("v: \(text)\n")
        let scalar = try #require(node["v"]?.scalar)
        #expect(scalar.text == text)
        #expect(scalar.style == .plain)
        #expect(scalar.tag == nil)
        #expect(scalar.value == expected)
    }

    @Test(arguments: [".nan", ".NaN", ".NAN"])
    func notANumber(_ text: String) throws {
        guard case .float(let value) = try root("v: \(text)")["v"]?.scalar?.value else {
            Issue.record("not a float")
            return
        }
        #expect(value.isNaN)
    }

    @Test func emptyPlainScalarIsNull() throws {
        #expect(try root("v:\n")["v"]?.scalar?.value == .null)
        #expect(try root("- \n- x\n").at(0)?.scalar?.value == .null)
    }

    @Test(arguments: ["'42'", "\"true\"", "\"~\"", "'null'", "|\n  42\n", ">\n  1.5\n"])
    func quotedAndBlockScalarsAreStrings(_ text: String) throws {
        let scalar = try #require(try root("v: \(text)")["v"]?.scalar)
        #expect(scalar.value == .string(scalar.text))
    }

    static let tagged: [(String, YAMLScalarValue, String)] = [
        ("!!str 42", .string("42"), "tag:yaml.org,2002:str"),
        ("!!str true", .string("true"), "tag:yaml.org,2002:str"),
        ("!!str", .string(""), "tag:yaml.org,2002:str"),
        ("!!int \"12\"", .int(12), "tag:yaml.org,2002:int"),
        ("!!int 0x10", .int(16), "tag:yaml.org,2002:int"),
        ("!!int abc", .string("abc"), "tag:yaml.org,2002:int"),
        ("!!int 1.5", .string("1.5"), "tag:yaml.org,2002:int"),
        ("!!float 1", .float(1), "tag:yaml.org,2002:float"),
        ("!!float '2.5'", .float(2.5), "tag:yaml.org,2002:float"),
        ("!!float x", .string("x"), "tag:yaml.org,2002:float"),
        ("!!bool 'true'", .bool(true), "tag:yaml.org,2002:bool"),
        ("!!bool yes", .string("yes"), "tag:yaml.org,2002:bool"),
        ("!!null ''", .null, "tag:yaml.org,2002:null"),
        ("!!null ~", .null, "tag:yaml.org,2002:null"),
        ("!!null x", .string("x"), "tag:yaml.org,2002:null"),
        ("!custom 42", .string("42"), "!custom"),
        ("! 42", .string("42"), "!"),
        ("!<tag:example.com:x> true", .string("true"), "tag:example.com:x"),
    ]

    @Test(arguments: tagged)
    func taggedScalars(_ text: String, _ expected: YAMLScalarValue, _ tag: String) throws {
        let scalar = try #require(try root("v: \(text)\n")["v"]?.scalar)
        #expect(scalar.value == expected)
        #expect(scalar.tag == tag)
    }

    @Test(arguments: [
        ("a: {b: 1}", "mapping"), ("a: [1]", "sequence"), ("a: x", "string"), ("a: '1'", "string"),
        ("a: 1", "integer"), ("a: 1.0", "number"), ("a: .inf", "number"), ("a: true", "boolean"),
        ("a: ~", "null"), ("a:", "null"),
    ])
    func kindNames(_ text: String, _ name: String) throws {
        #expect(try root(text)["a"]?.kindName == name)
    }

    @Test func conveniences() throws {
        let node = try root("s: text\nn: 1\nm: {k: v}\nl: [a]\n")
        #expect(node["s"]?.string == "text")
        #expect(node["n"]?.string == nil)
        #expect(node["n"]?.scalar?.text == "1")
        #expect(node["m"]?.mapping?.count == 1)
        #expect(node["m"]?.sequence == nil)
        #expect(node["l"]?.sequence?.count == 1)
        #expect(node["l"]?.mapping == nil)
        #expect(node["missing"] == nil)
        #expect(node.pair("m")?.key.range == span(3, 1, 3, 2))
        #expect(node["s"]?["x"] == nil)
        #expect(node.scalar == nil)
    }
}
