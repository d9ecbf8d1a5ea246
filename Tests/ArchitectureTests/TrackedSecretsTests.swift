import Foundation
import Testing

/// No credential is ever committed: a signed token, a private key, an API key or a cloud access key
/// in a tracked file fails the suite (a signed token once sat at the repository root as `token`).
@Suite struct TrackedSecretsTests {
    /// What a credential looks like. AWS's published example key (`…EXAMPLE`) is documentation, not a key.
    static let shapes: [(name: String, pattern: String)] = [
        ("a signed JWT", #"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,}"#),
        ("a PEM private key", #"-----BEGIN [A-Z ]*PRIVATE KEY-----"#),
        ("a Metalplane API key", #"\bmp_[A-Za-z0-9_-]{24,}"#),
        ("an AWS access key", #"AKIA(?!IOSFODNN7EXAMPLE)[0-9A-Z]{16}"#),
    ]

    /// The files git tracks, relative to the repository root (nil outside a git checkout).
    static func trackedFiles() -> [String]? {
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        git.arguments = ["git", "-C", ModuleLayeringTests.root.path, "ls-files", "-z"]
        let pipe = Pipe()
        git.standardOutput = pipe
        git.standardError = FileHandle.nullDevice
        guard (try? git.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self).split(separator: "\0").map(String.init)
    }

    @Test func theShapesCatchWhatTheyMean() throws {
        // Built at run time, so that this file does not hold the shapes it tests.
        let token = "eyJ" + "hbGciOiJSUzI1NiJ9." + "eyJ" + "zdWIiOiJhZG1pbiIsImV4cCI6MX0." + "c2lnbmF0dXJlc2lnbmF0dXJlc2ln"
        #expect(try Self.match(in: token) == "a signed JWT")
        #expect(try Self.match(in: "-----BEGIN RSA " + "PRIVATE KEY-----\nMII") == "a PEM private key")
        #expect(try Self.match(in: "AKIAIOSFODNN7EXAMPLE") == nil)
        #expect(try Self.match(in: "let x = 1") == nil)
    }

    @Test func noTrackedFileHoldsACredential() throws {
        let files = try #require(Self.trackedFiles(), "git ls-files did not run")
        #expect(files.contains("Package.swift"))
        for file in files {
            guard let data = FileManager.default.contents(atPath: ModuleLayeringTests.root.appendingPathComponent(file).path) else { continue }
            if let found = try Self.match(in: String(decoding: data, as: UTF8.self)) {
                Issue.record("\(file) holds \(found): credentials are never committed")
            }
        }
    }

    static func match(in text: String) throws -> String? {
        for shape in shapes where try NSRegularExpression(pattern: shape.pattern).firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil {
            return shape.name
        }
        return nil
    }
}
