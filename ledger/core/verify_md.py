"""VERIFY.md, the plain instructions stored in every evidence bundle (Chinese and English)."""

VERIFY_MD = """\
# 如何核验本证据包 / How to verify this evidence bundle

本证据包来自 hrledger 证据日志（一个只追加、以 Merkle 树根签名的透明日志，RFC 9162 / C2SP）。
任何人都可以离线核验，无需信任雇主的服务器。
This bundle comes from an hrledger evidence log (an append-only transparency log whose Merkle root is
signed, RFC 9162 / C2SP). Anyone can verify it offline without trusting the employer's servers.

## 1. 取得验证密钥 / Obtain the verifier key

验证密钥（vkey）形如 `<名称>+<8位十六进制>+<base64>`。请从独立渠道取得（例如雇主公告、
公证文书或此前收到的其他证据包），而不要只相信本包 `manifest.json` 中的 `vkey`。
The verifier key (vkey) looks like `<name>+<8 hex>+<base64>`. Obtain it from an independent channel
(a public notice, a notarised document, an earlier bundle), not only from `manifest.json` in this bundle.

## 2. 运行核验程序 / Run the verifier

    pip install pynacl            # 唯一依赖 / the only dependency
    python -m verifier BUNDLE.zip --vkey 'VKEY'
    # 同时核验时间戳（需 rfc3161-client）/ also check timestamps (needs rfc3161-client):
    python -m verifier BUNDLE.zip --vkey 'VKEY' --tsa-root tsa-root.pem
    python -m verifier BUNDLE.zip --vkey 'VKEY' --html report.html        # A4 打印报告 / printable report

退出码 0 表示全部核验通过；1 表示有失败，并逐条列出；2 表示用法错误。
Exit status 0: every check holds; 1: something failed, every failure is listed; 2: usage error.

## 3. 核验步骤 / What is checked

1. 清单 / manifest: 每个文件的 SHA-256 与 `manifest.json` 一致，无多余或缺失文件。
   Every file's SHA-256 matches `manifest.json`; nothing unlisted, nothing missing.
2. 检查点 / checkpoint: 由该密钥签名（Ed25519，C2SP signed note），来源名与密钥名一致。
   Signed by the key (Ed25519, C2SP signed note); its origin equals the key name.
3. 条目 / entries: `entry` 为 RFC 8785 规范 JSON；`data_digest = SHA-256(salt || RFC8785(data))`；
   个人数据已依法删除的条目（data 与 salt 为 null）标为“已删除”，仍可证明。
   `entry` is RFC 8785 canonical JSON; the data digest matches; erased entries (data and salt null)
   are marked as erased and are still proven.
4. 包含证明 / inclusion: `proofs/<seq>.tlog-proof` 由叶子哈希还原出检查点根哈希。
   Each tlog-proof rebuilds the checkpoint root from the leaf hash.
5. 一致性 / consistency: 较早发布的检查点是本检查点的前缀（日志未被改写）。
   Earlier published checkpoints are prefixes of this one (the log was not rewritten).
6. 覆盖 / coverage: `manifest.json` 声明的当事人条目（subject_seqs）全部在包中，且属于该当事人与期间。
   Every entry the manifest declares for the subject (subject_seqs) is present and belongs to the
   subject and the period.
7. 时间戳 / timestamps: `timestamps/<size>.tsr` 为第三方时间戳机构（RFC 3161）对检查点原始字节的签名。
   RFC 3161 tokens over the exact checkpoint bytes.
8. 时间线 / timeline: 按发生时间列出每个事实、证明状态、接收时间、时间戳时间；迟录（超过 24 小时）
   与已删除条目均有标记。
   Every fact in order of occurrence with its proof status, receipt time and timestamp; late-recorded
   (over 24 h) and erased entries are flagged.

手工逐步核验的方法（sha256sum、openssl、python 单行命令）见源代码中的 `docs/verifying.md`。
`report.html` 是生成本包时的核验结果，仅供阅读；请以自行运行核验程序的结果为准。
For verifying by hand (sha256sum, openssl, python one-liners) see `docs/verifying.md` in the source.
`report.html` shows the result at build time, for reading; rely on the verifier you run yourself.
"""
