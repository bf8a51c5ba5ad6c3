// DebugLayout ↔ DebugLayout.swift: annotated `gcc -E -dD -fdebug-cpp` output in, tokens at the lines and
// columns a local compile gives them out. The fixture is real gcc 12 output (map addresses blanked).

import Foundation
import Testing

@testable import SourceLayout

/// A token of relaid-out text and where a compiler reading it sees it.
struct Placed: Equatable, CustomStringConvertible {
    var line: Int
    var column: Int
    var token: String
    var description: String { "\(line):\(column) \(token)" }
}

/// Reads relaid-out text the way gcc's line maps do: `# N` sets the next line's number, columns are bytes.
func placements(_ text: [UInt8]) -> [Placed] {
    var result: [Placed] = []
    var line = 0
    for raw in String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
        if raw.hasPrefix("# ") {
            line = Int(raw.dropFirst(2).prefix { $0.isNumber }) ?? line
            continue
        }
        var column = 1
        for word in raw.split(separator: " ", omittingEmptySubsequences: false) {
            if !word.isEmpty { result.append(Placed(line: line, column: column, token: String(word))) }
            column += word.utf8.count + 1
        }
        line += 1
    }
    return result
}

@Suite struct DebugLayoutTests {
    static let source = """
        int f(int);
        #define CALL(x)   f(x)
        #define PAIR(x) CALL(x) + CALL(x+1)
        int h(int q) { int  z = 0; z += PAIR(q); return   CALL(q) + z; }
        """

    static let annotated = #"""
        {P:n.c;F:<NULL>;L:0;C:0;S:0;M:0x1;E:0,LOC:1,R:1}# 0 "n.c"
        {P:n.c;F:<NULL>;L:1;C:0;S:0;M:0x1;E:0,LOC:1,R:1}# 1 "n.c"
        {P:n.c;F:<NULL>;L:1;C:1;S:0;M:0x1;E:0,LOC:1,R:1}{P:n.c;F:<NULL>;L:1;C:1;S:0;M:0x1;E:0,LOC:1,R:1}int {P:n.c;F:<NULL>;L:1;C:5;S:0;M:0x1;E:0,LOC:1,R:1}f{P:n.c;F:<NULL>;L:1;C:6;S:0;M:0x1;E:0,LOC:1,R:1}({P:n.c;F:<NULL>;L:1;C:7;S:0;M:0x1;E:0,LOC:1,R:1}int{P:n.c;F:<NULL>;L:1;C:10;S:0;M:0x1;E:0,LOC:1,R:1}){P:n.c;F:<NULL>;L:1;C:11;S:0;M:0x1;E:0,LOC:1,R:1};{P:n.c;F:<NULL>;L:2;C:0;S:0;M:0x1;E:0,LOC:1,R:1}
        #define CALL(x) f(x)
        {P:n.c;F:<NULL>;L:3;C:0;S:0;M:0x1;E:0,LOC:1,R:1}#define PAIR(x) CALL(x) + CALL(x+1)
        {P:n.c;F:<NULL>;L:4;C:1;S:0;M:0x1;E:0,LOC:1,R:1}{P:n.c;F:<NULL>;L:4;C:1;S:0;M:0x1;E:0,LOC:1,R:1}int {P:n.c;F:<NULL>;L:4;C:5;S:0;M:0x1;E:0,LOC:1,R:1}h{P:n.c;F:<NULL>;L:4;C:6;S:0;M:0x1;E:0,LOC:1,R:1}({P:n.c;F:<NULL>;L:4;C:7;S:0;M:0x1;E:0,LOC:1,R:1}int {P:n.c;F:<NULL>;L:4;C:11;S:0;M:0x1;E:0,LOC:1,R:1}q{P:n.c;F:<NULL>;L:4;C:12;S:0;M:0x1;E:0,LOC:1,R:1}) {P:n.c;F:<NULL>;L:4;C:14;S:0;M:0x1;E:0,LOC:1,R:1}{ {P:n.c;F:<NULL>;L:4;C:16;S:0;M:0x1;E:0,LOC:1,R:1}int {P:n.c;F:<NULL>;L:4;C:21;S:0;M:0x1;E:0,LOC:1,R:1}z {P:n.c;F:<NULL>;L:4;C:23;S:0;M:0x1;E:0,LOC:1,R:1}= {P:n.c;F:<NULL>;L:4;C:25;S:0;M:0x1;E:0,LOC:1,R:1}0{P:n.c;F:<NULL>;L:4;C:26;S:0;M:0x1;E:0,LOC:1,R:1}; {P:n.c;F:<NULL>;L:4;C:28;S:0;M:0x1;E:0,LOC:1,R:1}z {P:n.c;F:<NULL>;L:4;C:30;S:0;M:0x1;E:0,LOC:1,R:1}+= {P:n.c;F:<NULL>;L:2;C:19;S:0;M:0x1;E:0,LOC:1,R:1}f{P:n.c;F:<NULL>;L:2;C:20;S:0;M:0x1;E:0,LOC:1,R:1}({P:n.c;F:<NULL>;L:4;C:38;S:0;M:0x1;E:0,LOC:1,R:1}q{P:n.c;F:<NULL>;L:2;C:22;S:0;M:0x1;E:0,LOC:1,R:1}) {P:n.c;F:<NULL>;L:3;C:25;S:0;M:0x1;E:0,LOC:1,R:1}+ {P:n.c;F:<NULL>;L:2;C:19;S:0;M:0x1;E:0,LOC:1,R:1}f{P:n.c;F:<NULL>;L:2;C:20;S:0;M:0x1;E:0,LOC:1,R:1}({P:n.c;F:<NULL>;L:4;C:38;S:0;M:0x1;E:0,LOC:1,R:1}q{P:n.c;F:<NULL>;L:3;C:33;S:0;M:0x1;E:0,LOC:1,R:1}+{P:n.c;F:<NULL>;L:3;C:34;S:0;M:0x1;E:0,LOC:1,R:1}1{P:n.c;F:<NULL>;L:2;C:22;S:0;M:0x1;E:0,LOC:1,R:1}){P:n.c;F:<NULL>;L:4;C:40;S:0;M:0x1;E:0,LOC:1,R:1}; {P:n.c;F:<NULL>;L:4;C:42;S:0;M:0x1;E:0,LOC:1,R:1}return {P:n.c;F:<NULL>;L:2;C:19;S:0;M:0x1;E:0,LOC:1,R:1}f{P:n.c;F:<NULL>;L:2;C:20;S:0;M:0x1;E:0,LOC:1,R:1}({P:n.c;F:<NULL>;L:4;C:56;S:0;M:0x1;E:0,LOC:1,R:1}q{P:n.c;F:<NULL>;L:2;C:22;S:0;M:0x1;E:0,LOC:1,R:1}) {P:n.c;F:<NULL>;L:4;C:59;S:0;M:0x1;E:0,LOC:1,R:1}+ {P:n.c;F:<NULL>;L:4;C:61;S:0;M:0x1;E:0,LOC:1,R:1}z{P:n.c;F:<NULL>;L:4;C:62;S:0;M:0x1;E:0,LOC:1,R:1}; {P:n.c;F:<NULL>;L:4;C:64;S:0;M:0x1;E:0,LOC:1,R:1}}
        """#

    func relayout(_ annotated: String = annotated, files: [String: String] = ["n.c": source]) -> [UInt8]? {
        DebugLayout.relayout(Array(annotated.utf8)) { files[$0].map { Array($0.utf8) } }
    }

    @Test func directTokensKeepTheirSpellingColumns() throws {
        let placed = try #require(relayout().map(placements))
        // `int  z` has two spaces in the source; plain -E would collapse them.
        // (Words here are runs between spaces: `z;` is the token `z` with `;` right after it, as in the source.)
        #expect(placed.contains(Placed(line: 4, column: 21, token: "z")))
        #expect(placed.contains(Placed(line: 4, column: 30, token: "+=")))
        #expect(placed.contains(Placed(line: 4, column: 61, token: "z;")))
    }

    @Test func macroTokensSitAtTheOutermostExpansionPoint() throws {
        let placed = try #require(relayout().map(placements))
        let plusEquals = try #require(placed.firstIndex { $0.token == "+=" })
        let expansion = placed[(plusEquals + 1)...].prefix { $0.token != ";" }
        // PAIR(q) → f ( q ) + f ( q + 1 ): every token at PAIR's column, q included (a macro argument).
        #expect(expansion.map(\.token) == ["f", "(", "q", ")", "+", "f", "(", "q", "+", "1", ")"])
        #expect(expansion.allSatisfy { $0.line == 4 && $0.column == 33 }, "\(Array(expansion))")
        let call = placed.drop { $0.token != "return" }.dropFirst().prefix(4)
        #expect(call.allSatisfy { $0.line == 4 && $0.column == 51 }, "\(Array(call))")
    }

    @Test func tokensComeOutInTheirOriginalOrder() throws {
        let placed = try #require(relayout().map(placements))
        let expected =
            "int f ( int ) ; int h ( int q ) { int z = 0 ; z += f ( q ) + f ( q + 1 ) ; return f ( q ) + z ; }"
        #expect(placed.map(\.token).joined() == expected.filter { $0 != " " })
    }

    @Test func markersGoingBackKeepTheFileNameOut() throws {
        let text = String(decoding: try #require(relayout()), as: UTF8.self)
        #expect(text.contains("\n# 4\n"))
        #expect(!text.contains("# 4 \"n.c\""), "a named marker would start new DWARF line rows")
        #expect(!text.contains("#define"), "definitions are not sent")
    }

    @Test func unreadableSourceMalformedAnnotationOrSplitLiteralGiveNil() {
        #expect(relayout(files: [:]) == nil)
        #expect(relayout(Self.annotated.replacingOccurrences(of: ";C:5;", with: ";C:x;")) == nil)
        let rawString = "# 1 \"n.c\"\n{P:n.c;F:<NULL>;L:1;C:1;S:0;M:0x1;E:0,LOC:1,R:1}R\"(abc\n)\"\n"
        #expect(relayout(rawString) == nil)
    }
}

/// A system-header macro (`Z`, from s.h) used in user code: gcc -E switches the system-header flag around its
/// tokens with named markers.
@Suite struct SystemMacroFlipTests {
    static let annotated = """
        # 0 "u.c"
        #define Z 0
        # 1 "u.c"
        {P:u.c;F:<NULL>;L:1;C:1;S:0;M:0x1;E:0,LOC:1,R:1}int {P:u.c;F:<NULL>;L:1;C:5;S:0;M:0x1;E:0,LOC:1,R:1}x {P:u.c;F:<NULL>;L:1;C:7;S:0;M:0x1;E:0,LOC:1,R:1}=
        # 1 "u.c" 3 4
        {P:s.h;F:<NULL>;L:1;C:11;S:1;M:0x1;E:0,LOC:1,R:1}0
        # 1 "u.c"
        {P:u.c;F:<NULL>;L:1;C:10;S:0;M:0x1;E:0,LOC:1,R:1};

        """
    static let files = ["u.c": "int x = Z;\n", "s.h": "#define Z 0\n"]

    func relayout(keep: Bool) throws -> String {
        let text = try DebugLayout.relayoutOrExplain(Array(Self.annotated.utf8), keepSystemMacroFlips: keep) {
            Self.files[$0].map { Array($0.utf8) }
        }.get()
        return String(decoding: text, as: UTF8.self)
    }

    @Test func droppedForExactLineTables() throws {
        let text = try relayout(keep: false)
        #expect(!text.contains(" 3 4"))
        #expect(placements(Array(text.utf8)).map(\.description) == ["1:1 int", "1:5 x", "1:7 =", "1:9 0", "1:10 ;"])
    }

    @Test func keptAsAnIncludeLeftWithAnEmptyName() throws {
        let text = try relayout(keep: true)
        #expect(text.contains("# 1 \"u.c\" 1 3 4\n"), "\(text)")
        #expect(text.contains("# 1 \"\" 2\n"), "leaving to \"\" gives back the includer's file-name pointer")
        #expect(!text.contains("# 1 \"u.c\" 3 4"), "a renaming marker would start new line-table rows")
    }
}

@Suite struct SourceTextTests {
    let text = SourceText(Array("a /* x */ b // y\n#define F(x) x\n  F ( 1, (2) ) c\n\"s\" u8'c' 1.5e+3".utf8))

    @Test func skipsBlanksCommentsAndDirectives() {
        #expect(text.skipBlank(1) == 10)
        #expect(text.bytes[text.skipBlank(11)] == UInt8(ascii: "F"))
    }

    @Test func findsInvocationsWithTheirArguments() throws {
        var macros = MacroTable()
        macros.define("#define F(x) x")
        let start = text.skipBlank(11)
        let found = try #require(text.invocation(at: start, macros))
        #expect(found.name == "F")
        #expect(text.bytes[found.end...].starts(with: Array(" c".utf8)))
        #expect(text.definedName(line: 2) == "F")
        #expect(text.definedName(line: 3) == nil)
        #expect(text.position(of: start) == (3, 3))
    }

    @Test func lexesLiteralsAndNumbersWhole() throws {
        let line4 = try #require(text.offset(line: 4, column: 1))
        #expect(text.tokenEnd(line4) == line4 + 3)
        #expect(text.tokenEnd(line4 + 4) == line4 + 9)
        #expect(text.tokenEnd(line4 + 10) == text.bytes.count)
    }
}

@Suite struct MacroTableTests {
    @Test func reachesThroughNestedBodiesAndForgetsUndefined() {
        var macros = MacroTable()
        macros.define("#define PAIR(x) CALL(x) + CALL(x+1)")
        macros.define("#define CALL(x) f(x)")
        macros.define("#define ONE 1")
        #expect(macros.reaches("PAIR", "CALL"))
        #expect(!macros.reaches("CALL", "PAIR"))
        #expect(macros.isFunctionLike("ONE") == false)
        macros.undefine("#undef CALL")
        #expect(!macros.reaches("PAIR", "CALL"))
        #expect(macros.isFunctionLike("CALL") == nil)
    }
}
