import OsirisCore
import OsirisYAML
import Testing

@Suite("Node positions")
struct PositionTests {
    @Test func scalarsAndKeys() throws {
        let node = try root("name: shop\nvalue: \"quoted\"\nother: 'single'\nn: 42\n")
        let pairs = try #require(node.mapping)
        #expect(pairs.count == 4)
        #expect(pairs[0].key.range == span(1, 1, 1, 5))
        #expect(pairs[0].value.range == span(1, 7, 1, 11))
        #expect(pairs[1].key.range == span(2, 1, 2, 6))
        #expect(pairs[1].value.range == span(2, 8, 2, 16)) // quotes included
        #expect(pairs[1].value.scalar?.text == "quoted")
        #expect(pairs[1].value.scalar?.style == .doubleQuoted)
        #expect(pairs[2].value.range == span(3, 8, 3, 16))
        #expect(pairs[2].value.scalar?.style == .singleQuoted)
        #expect(pairs[3].value.range == span(4, 4, 4, 6))
        #expect(node.range == span(1, 1, 4, 6))
    }

    @Test func nestedMappingValues() throws {
        let node = try root("a:\n  b:\n    c: 1\n  d: x\n")
        let a = try #require(node["a"])
        #expect(a.range == span(2, 3, 4, 7))
        let b = try #require(a["b"])
        #expect(b.range == span(3, 5, 3, 9))
        #expect(try #require(b.pair("c")).key.range == span(3, 5, 3, 6))
        #expect(b["c"]?.range == span(3, 8, 3, 9))
        #expect(a["d"]?.range == span(4, 6, 4, 7))
        #expect(node.range == span(1, 1, 4, 7))
    }

    @Test func emptyValueIsZeroWidthAfterColon() throws {
        let node = try root("k:\nlast: 1\n")
        let k = try #require(node["k"])
        #expect(k.range == span(1, 3, 1, 3))
        #expect(k.scalar?.value == .null)
    }

    @Test func blockSequences() throws {
        let node = try root("steps:\n  - id: a\n    mode: read\n  - id: b\n")
        let steps = try #require(node["steps"])
        #expect(steps.range == span(2, 3, 4, 10))
        let first = try #require(steps.sequence?.first)
        #expect(first.range == span(2, 5, 3, 15))
        #expect(first["mode"]?.range == span(3, 11, 3, 15))
        #expect(steps.at(1, "id")?.range == span(4, 9, 4, 10))
    }

    @Test func indentlessSequence() throws {
        let node = try root("needs:\n- a\n- b\n")
        #expect(node["needs"]?.range == span(2, 1, 3, 4))
        #expect(node.at("needs", 1)?.range == span(3, 3, 3, 4))
    }

    @Test func flowCollections() throws {
        let node = try root("steps: [a, {b: c}, []]\nm: {x: 1, y: [2]}\n")
        let steps = try #require(node["steps"])
        #expect(steps.range == span(1, 8, 1, 23))
        #expect(steps.at(0)?.range == span(1, 9, 1, 10))
        #expect(steps.at(1)?.range == span(1, 12, 1, 18))
        #expect(steps.at(1, "b")?.range == span(1, 16, 1, 17))
        #expect(steps.at(2)?.range == span(1, 20, 1, 22))
        #expect(node["m"]?.range == span(2, 4, 2, 18))
        #expect(node.at("m", "y")?.range == span(2, 14, 2, 17))
        #expect(node.at("m", "y", 0)?.range == span(2, 15, 2, 16))
    }

    @Test func blockScalars() throws {
        let node = try root("key: |\n  x\n  y\n\nfolded: >-\n  one\n  two\nz: 1\n")
        let literal = try #require(node["key"]?.scalar)
        #expect(literal.text == "x\ny\n")
        #expect(literal.style == .literal)
        #expect(node["key"]?.range == span(1, 6, 5, 1)) // libyaml ends a block scalar after its trailing breaks
        let folded = try #require(node["folded"]?.scalar)
        #expect(folded.text == "one two")
        #expect(folded.style == .folded)
        #expect(node["folded"]?.range == span(5, 9, 8, 1))
        #expect(try #require(node.pair("z")).key.range == span(8, 1, 8, 2))
    }

    @Test func crlfLineEndings() throws {
        let node = try root("a: 1\r\nkey: |\r\n  x\r\n  y\r\nb:\r\n  c: \"q\"\r\n")
        #expect(try #require(node.pair("a")).value.range == span(1, 4, 1, 5))
        #expect(node["key"]?.scalar?.text == "x\ny\n")
        #expect(node["key"]?.range == span(2, 6, 5, 1))
        #expect(try #require(node.pair("b")).key.range == span(5, 1, 5, 2))
        #expect(node.at("b", "c")?.range == span(6, 6, 6, 9))
    }

    @Test func byteOrderMark() throws {
        let node = try root("\u{FEFF}a: 1\nbb: 2\n")
        #expect(try #require(node.pair("a")).key.range == span(1, 1, 1, 2))
        #expect(node["a"]?.range == span(1, 4, 1, 5))
        #expect(node["bb"]?.range == span(2, 5, 2, 6))
    }

    @Test func columnsCountUnicodeScalars() throws {
        let node = try root("é€😀: x\nk: \"ü\" # ß\n")
        #expect(node["é€😀"]?.range == span(1, 6, 1, 7))
        #expect(node["k"]?.range == span(2, 4, 2, 7))
    }

    @Test func tagsAndAnchorsAreInsideTheNodeRange() throws {
        let node = try root("k: &a !!str x\n")
        #expect(node["k"]?.range == span(1, 4, 1, 14))
        #expect(node["k"]?.anchor == "a")
        #expect(node["k"]?.scalar?.tag == "tag:yaml.org,2002:str")
    }
}
