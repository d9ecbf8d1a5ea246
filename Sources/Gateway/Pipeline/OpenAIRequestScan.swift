import Foundation
import NIOCore

/// What the router needs from an OpenAI request body, read by one pass over its top-level keys
/// instead of decoding the whole document: the model, whether it streams, and whether it already
/// asks for the usage chunk. Values are skipped by bracket depth and string escapes, so a `"model"`
/// key nested in tools or messages is never taken for the request's model. Full validation is the
/// engine's job; the scan only refuses what is not a JSON object.
struct OpenAIRequestScan: Equatable {
    var model: String?
    var streaming = false
    /// `stream_options.include_usage` is true.
    var includesUsage = false
    /// `stream_options` is present (then the usage flag cannot be added by an insertion).
    var hasStreamOptions = false
    /// Where the model's value is written (offsets from the body's first byte, quotes excluded),
    /// when it is written without escapes: a rename splices there with no second search.
    var modelValue: Range<Int>?

    /// Nil when the bytes are not one JSON object.
    init?(_ buffer: ByteBuffer) {
        let scanned: OpenAIRequestScan? = buffer.withUnsafeReadableBytes { bytes in
            var scanner = Scanner(bytes: bytes)
            return scanner.scanObject()
        }
        guard let scanned else { return nil }
        self = scanned
    }

    private init() {}

    /// The body with `"stream_options":{"include_usage":true}` added (after the opening brace, so
    /// everything after it moves by the inserted length), so a streamed request's tokens can be
    /// counted; nil when `stream_options` is already there (the caller re-encodes then).
    static func addingUsageOption(to buffer: ByteBuffer) -> ByteBuffer? {
        let bytes = buffer.readableBytesView
        guard let brace = bytes.firstIndex(of: UInt8(ascii: "{")) else { return nil }
        var amended = ByteBuffer()
        amended.reserveCapacity(buffer.readableBytes + 40)
        amended.writeBytes(bytes[bytes.startIndex...brace])
        amended.writeString(#""stream_options":{"include_usage":true}"#)
        // An empty object takes no comma after the insertion.
        let rest = bytes[(brace + 1)...]
        if rest.first(where: { !Scanner.isSpace($0) }) != UInt8(ascii: "}") { amended.writeString(",") }
        amended.writeBytes(rest)
        return amended
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var cursor = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

        mutating func skipSpaces() { while cursor < bytes.count, Self.isSpace(bytes[cursor]) { cursor += 1 } }

        mutating func expect(_ byte: UInt8) -> Bool {
            skipSpaces()
            guard cursor < bytes.count, bytes[cursor] == byte else { return false }
            cursor += 1
            return true
        }

        /// The string at the cursor (which is on its opening quote), unescaped only when it has escapes.
        mutating func string() -> String? {
            guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "\"") else { return nil }
            let start = cursor + 1
            var index = start
            var escaped = false
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\\") { escaped = true; index += 2; continue }
                if byte == UInt8(ascii: "\"") { break }
                index += 1
            }
            guard index < bytes.count else { return nil }
            cursor = index + 1
            let raw = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            return escaped ? Self.unescaped(raw) : raw
        }

        /// The string at the cursor (on its opening quote) is written with a backslash escape.
        func rawStringHasEscapes() -> Bool {
            var index = cursor + 1
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "\\") { return true }
                if bytes[index] == UInt8(ascii: "\"") { return false }
                index += 1
            }
            return false
        }

        static func unescaped(_ raw: String) -> String? {
            let quoted = "\"" + raw + "\""
            return (try? JSONDecoderForStrings.decode(quoted))
        }

        /// Skips one value of any type; false when the bytes end first.
        mutating func skipValue() -> Bool {
            skipSpaces()
            guard cursor < bytes.count else { return false }
            switch bytes[cursor] {
            case UInt8(ascii: "\""):
                return string() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while cursor < bytes.count {
                    let byte = bytes[cursor]
                    if byte == UInt8(ascii: "\"") { guard string() != nil else { return false }; continue }
                    if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") { depth += 1 }
                    if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                        depth -= 1
                        if depth == 0 { cursor += 1; return true }
                    }
                    cursor += 1
                }
                return false
            default:
                // A number, true, false or null: up to the next delimiter.
                let start = cursor
                while cursor < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(bytes[cursor]),
                      !Self.isSpace(bytes[cursor]) {
                    cursor += 1
                }
                return cursor > start
            }
        }

        /// The literal at the cursor is `true`.
        mutating func isTrue() -> Bool {
            skipSpaces()
            let start = cursor
            guard skipValue() else { return false }
            return cursor - start == 4 && bytes[start] == UInt8(ascii: "t")
        }

        mutating func scanObject() -> OpenAIRequestScan? {
            var scan = OpenAIRequestScan()
            guard expect(UInt8(ascii: "{")) else { return nil }
            skipSpaces()
            if cursor < bytes.count, bytes[cursor] == UInt8(ascii: "}") { return trailingIsEmpty(after: cursor + 1) ? scan : nil }
            while true {
                skipSpaces()
                guard let key = string(), expect(UInt8(ascii: ":")) else { return nil }
                skipSpaces()
                switch key {
                case "model":
                    guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "\"") else {
                        guard skipValue() else { return nil }
                        break
                    }
                    let start = cursor + 1
                    let escaped = rawStringHasEscapes()
                    scan.model = string()
                    if scan.model == nil { return nil }
                    if !escaped { scan.modelValue = start..<(cursor - 1) }
                case "stream":
                    scan.streaming = isTrue()
                case "stream_options":
                    scan.hasStreamOptions = true
                    guard let options = streamOptionsIncludeUsage() else { return nil }
                    scan.includesUsage = options
                default:
                    guard skipValue() else { return nil }
                }
                skipSpaces()
                guard cursor < bytes.count else { return nil }
                if bytes[cursor] == UInt8(ascii: ",") { cursor += 1; continue }
                if bytes[cursor] == UInt8(ascii: "}") { return trailingIsEmpty(after: cursor + 1) ? scan : nil }
                return nil
            }
        }

        /// Reads `stream_options` (an object) for `include_usage: true`; nil when malformed.
        mutating func streamOptionsIncludeUsage() -> Bool? {
            guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "{") else { return skipValue() ? false : nil }
            cursor += 1
            var includes = false
            skipSpaces()
            if cursor < bytes.count, bytes[cursor] == UInt8(ascii: "}") { cursor += 1; return false }
            while true {
                skipSpaces()
                guard let key = string(), expect(UInt8(ascii: ":")) else { return nil }
                if key == "include_usage" { includes = isTrue() } else if !skipValue() { return nil }
                skipSpaces()
                guard cursor < bytes.count else { return nil }
                if bytes[cursor] == UInt8(ascii: ",") { cursor += 1; continue }
                if bytes[cursor] == UInt8(ascii: "}") { cursor += 1; return includes }
                return nil
            }
        }

        func trailingIsEmpty(after index: Int) -> Bool {
            var index = index
            while index < bytes.count, Self.isSpace(bytes[index]) { index += 1 }
            return index == bytes.count
        }
    }
}

/// Decodes one JSON string literal (for the rare key or model name written with escapes).
private enum JSONDecoderForStrings {
    static func decode(_ quoted: String) throws -> String {
        try JSONDecoder().decode(String.self, from: Data(quoted.utf8))
    }
}
