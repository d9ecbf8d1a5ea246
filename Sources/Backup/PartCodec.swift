import CZlib
import Cryptography
import Foundation

/// How one part of a backup (the store snapshot, the secrets key, the configuration) is stored:
/// deflated with zlib, then cut into frames of up to 4 MiB, each sealed with AES-256-GCM.
///
///     "MPBK1\n" ‖ frame* ,  frame = length (UInt32, big-endian) ‖ nonce ‖ ciphertext ‖ tag
///
/// Each frame's associated data binds the backup id, the part name, the frame's index and whether
/// it is the last, so frames cannot be swapped between parts or backups, reordered, or cut off
/// without `open` failing. Synchronous and blocking (files): run it on a worker thread.
public enum PartCodec {
    static let magic = Array("MPBK1\n".utf8)
    static let frameBytes = 4 << 20

    /// What sealing a part produced: sizes and SHA-256 of the plaintext and of the stored bytes.
    public struct Sealed: Sendable, Equatable {
        public var plainBytes: Int64
        public var plainSHA256: String
        public var storedBytes: Int64
        public var storedSHA256: String
    }

    /// Compresses and seals the file at `source` into `destination`; `progress` gets plaintext bytes read so far.
    public static func seal(_ source: String, to destination: String, key: [UInt8], backupID: String, part: String,
                            progress: (Int64) -> Void = { _ in }) throws -> Sealed {
        guard let input = FileHandle(forReadingAtPath: source) else { throw BackupError.io("cannot read \(source)") }
        defer { try? input.close() }
        guard FileManager.default.createFile(atPath: destination, contents: nil, attributes: [.posixPermissions: 0o600]),
              let output = FileHandle(forWritingAtPath: destination) else { throw BackupError.io("cannot write \(destination)") }
        defer { try? output.close() }
        let box = try SealedBox(key: key)
        let plainHash = StreamingSHA256()
        let storedHash = StreamingSHA256()
        var storedBytes: Int64 = 0
        func emit(_ bytes: [UInt8]) throws {
            bytes.withUnsafeBytes { storedHash.update($0) }
            try output.write(contentsOf: bytes)
            storedBytes += Int64(bytes.count)
        }
        try emit(magic)
        let deflater = try Deflater()
        var pending: [UInt8] = []
        var frameIndex = 0
        func flushFrames(final: Bool) throws {
            while pending.count >= frameBytes || (final && (pending.count > 0 || frameIndex == 0)) {
                let take = min(frameBytes, pending.count)
                let last = final && take == pending.count
                let sealed = try box.seal(Array(pending[0..<take]), associatedData: associatedData(backupID, part, frameIndex, last))
                var length = UInt32(sealed.count).bigEndian
                try emit(withUnsafeBytes(of: &length) { Array($0) })
                try emit(sealed)
                pending.removeFirst(take)
                frameIndex += 1
                if last { break }
            }
        }
        var plainBytes: Int64 = 0
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { plainHash.update($0) }
            plainBytes += Int64(chunk.count)
            pending += try deflater.push(Array(chunk), finish: false)
            try flushFrames(final: false)
            progress(plainBytes)
        }
        pending += try deflater.push([], finish: true)
        try flushFrames(final: true)
        try output.synchronize()
        return Sealed(plainBytes: plainBytes, plainSHA256: plainHash.finalHex(), storedBytes: storedBytes, storedSHA256: storedHash.finalHex())
    }

    /// Opens a sealed part into `destination`; throws `BackupError` naming what is wrong (wrong key,
    /// altered or truncated data) and leaves no file behind then. Returns the plaintext's size and SHA-256.
    public static func open(_ source: String, to destination: String, key: [UInt8], backupID: String, part: String) throws -> (bytes: Int64, sha256: String) {
        guard let input = FileHandle(forReadingAtPath: source) else { throw BackupError.io("cannot read \(source)") }
        defer { try? input.close() }
        guard FileManager.default.createFile(atPath: destination, contents: nil, attributes: [.posixPermissions: 0o600]),
              let output = FileHandle(forWritingAtPath: destination) else { throw BackupError.io("cannot write \(destination)") }
        var completed = false
        defer {
            try? output.close()
            if !completed { try? FileManager.default.removeItem(atPath: destination) }
        }
        guard let header = try input.read(upToCount: magic.count), Array(header) == magic else {
            throw BackupError.corrupt(part: part, reason: "not a Metalplane backup part (bad header)")
        }
        let box = try SealedBox(key: key)
        let inflater = try Inflater()
        let hash = StreamingSHA256()
        var bytes: Int64 = 0
        var frameIndex = 0
        var sawLast = false
        while let prefix = try input.read(upToCount: 4), !prefix.isEmpty {
            guard !sawLast else { throw BackupError.corrupt(part: part, reason: "data after the last frame") }
            guard prefix.count == 4 else { throw BackupError.corrupt(part: part, reason: "truncated frame header") }
            let length = Int(prefix.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard length >= 28, length <= frameBytes + 64 else { throw BackupError.corrupt(part: part, reason: "frame \(frameIndex) has an impossible length") }
            guard let frame = try input.read(upToCount: length), frame.count == length else {
                throw BackupError.corrupt(part: part, reason: "truncated: frame \(frameIndex) is cut short")
            }
            // A frame opens as the last or not at all: try "not last" first, then "last".
            let sealed = Array(frame)
            let plain: [UInt8]
            if let middle = try? box.open(sealed, associatedData: associatedData(backupID, part, frameIndex, false)) {
                plain = middle
            } else if let final = try? box.open(sealed, associatedData: associatedData(backupID, part, frameIndex, true)) {
                plain = final
                sawLast = true
            } else {
                throw BackupError.cannotDecrypt(part: part, reason: "frame \(frameIndex) fails authentication: wrong key, or the data was altered")
            }
            let inflated = try inflater.push(plain)
            inflated.withUnsafeBytes { hash.update($0) }
            bytes += Int64(inflated.count)
            try output.write(contentsOf: inflated)
            frameIndex += 1
        }
        guard sawLast else { throw BackupError.corrupt(part: part, reason: "truncated: the last frame is missing") }
        guard inflater.finished else { throw BackupError.corrupt(part: part, reason: "the compressed stream is incomplete") }
        try output.synchronize()
        completed = true
        return (bytes, hash.finalHex())
    }

    static func associatedData(_ backupID: String, _ part: String, _ index: Int, _ last: Bool) -> [UInt8] {
        Array("metalplane-backup\u{0}\(backupID)\u{0}\(part)\u{0}\(index)\u{0}\(last ? "last" : "more")".utf8)
    }
}

/// zlib deflate, fed in pieces. The stream lives at a fixed address: zlib checks that it was not moved.
final class Deflater {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)

    init() throws {
        stream.initialize(to: z_stream())
        guard deflateInit_(stream, 6, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw BackupError.io("zlib deflateInit failed") }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    func push(_ input: [UInt8], finish: Bool) throws -> [UInt8] {
        var output: [UInt8] = []
        var input = input
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        try input.withUnsafeMutableBufferPointer { inputPointer in
            stream.pointee.next_in = inputPointer.baseAddress
            stream.pointee.avail_in = UInt32(inputPointer.count)
            defer { stream.pointee.next_in = nil }
            // zlib's own pattern: call until it leaves output space unused.
            repeat {
                let status = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = UInt32(out.count)
                    return deflate(stream, finish ? Z_FINISH : Z_NO_FLUSH)
                }
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { throw BackupError.io("zlib deflate failed (\(status))") }
                output += buffer[0..<(buffer.count - Int(stream.pointee.avail_out))]
            } while stream.pointee.avail_out == 0
        }
        return output
    }
}

/// zlib inflate, fed in pieces.
final class Inflater {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private(set) var finished = false

    init() throws {
        stream.initialize(to: z_stream())
        guard inflateInit_(stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw BackupError.io("zlib inflateInit failed") }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func push(_ input: [UInt8]) throws -> [UInt8] {
        guard !input.isEmpty else { return [] }
        guard !finished else { throw BackupError.corrupt(part: "?", reason: "data after the end of the compressed stream") }
        var output: [UInt8] = []
        var input = input
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        try input.withUnsafeMutableBufferPointer { inputPointer in
            stream.pointee.next_in = inputPointer.baseAddress
            stream.pointee.avail_in = UInt32(inputPointer.count)
            defer { stream.pointee.next_in = nil }
            repeat {
                let status = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = UInt32(out.count)
                    return inflate(stream, Z_NO_FLUSH)
                }
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    throw BackupError.corrupt(part: "?", reason: "the compressed data is damaged (zlib \(status))")
                }
                output += buffer[0..<(buffer.count - Int(stream.pointee.avail_out))]
                if status == Z_STREAM_END { finished = true }
                if status == Z_BUF_ERROR, stream.pointee.avail_out > 0 {
                    throw BackupError.corrupt(part: "?", reason: "the compressed data is damaged (no progress)")
                }
            } while !finished && (stream.pointee.avail_out == 0 || stream.pointee.avail_in > 0)
        }
        return output
    }
}
