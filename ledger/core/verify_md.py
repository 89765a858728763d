"""VERIFY.md, the plain instructions stored in every evidence bundle (Chinese and English)."""

from __future__ import annotations

TEMPLATE = """\
# 如何核验本证据包 / How to verify this evidence bundle

本证据包来自 hrledger 证据日志（只追加、以 Merkle 树根签名的透明日志，RFC 9162 / C2SP）。
任何人都可以离线核验，无需信任雇主的服务器。本文件、report.html、case.json 与 verifier.pyz
是制作方的呈现材料：它们受签名声明覆盖，但不是证据；请以您自己运行核验程序的结果为准。
This bundle comes from an hrledger evidence log (an append-only transparency log whose Merkle root is
signed, RFC 9162 / C2SP). Anyone can verify it offline without trusting the employer's servers. This file,
report.html, case.json and verifier.pyz are the producer's presentation: covered by its signed declaration,
but not evidence. Rely on the verifier you run yourself.

## 1. 取得验证密钥 / Obtain the verifier key

验证密钥（vkey）形如 `<名称>+<8位十六进制>+<base64>`。请从独立渠道取得（雇主公告、公证文书、
此前收到的证据包），不要只相信本包 `manifest.json` 中的 `vkey`。
The verifier key (vkey) looks like `<name>+<8 hex>+<base64>`. Obtain it independently (a public notice, a
notarised statement, an earlier bundle), not only from `manifest.json` in this bundle.

## 2. 运行核验程序 / Run the verifier

    pip install pynacl                                  # 唯一依赖 / the only dependency
    sha256sum verifier.pyz                              # 应为 / must be {pyz_sha256}
    python3 verifier.pyz BUNDLE.zip --vkey 'VKEY'
    python3 verifier.pyz BUNDLE.zip --vkey 'VKEY' --receipt RECEIPT.tlog-proof   # 对方持有的回执 / a receipt
    python3 verifier.pyz BUNDLE.zip --vkey 'VKEY' --tsa-root tsa-root.pem        # 时间戳（需 rfc3161-client）
    python3 verifier.pyz BUNDLE.zip --vkey 'VKEY' --html report-verified.html    # 核验程序自己的报告

verifier.pyz 的 SHA-256 应与 hrledger 发布说明（README 的 "Verifier" 一节）中公布的一致；也可以使用
您自己取得的核验程序（`pip install hr-evidence-ledger` 后的 `hrledger-verify`）。
The SHA-256 of verifier.pyz must equal the one published in hrledger's release notes (the README's
"Verifier" section); or use your own copy of the verifier (`hrledger-verify`).

退出码 0：每项核验通过且记录完整；1：有失败，或无法证明完整（逐条列出）；2：用法错误。
Exit status 0: every check holds and the record is shown complete; 1: something failed or completeness
cannot be shown (each reason listed); 2: usage error.

## 3. 核验步骤 / The steps

1. 压缩包 / archive: 成员数、大小、名称均在限制内，无目录、链接、加密或重叠成员。
   Members, sizes and names within the limits; no directories, links, encrypted or overlapping members.
2. 声明 / declaration: `manifest.sig` 是日志密钥对 `manifest.json` 原始字节的签名声明；清单格式精确。
   `manifest.sig` is the log key's signed declaration over the exact bytes of `manifest.json`.
3. 文件 / files: 每个文件的 SHA-256 与清单一致，无清单外文件。 Every file's SHA-256 as listed; nothing else.
4. 检查点 / checkpoint: 由日志密钥签名（及见证人联署）。 Signed by the log key (and cosigned by witnesses).
5. 条目 / entries: 规范叶子，包含证明还原出检查点根哈希。 Canonical leaves whose proofs rebuild the root.
6. 链 / chains: 当事人及公司的链从 head 经 prev 到 first 不间断，first 足够早。
   The subject's and the company's chains are unbroken from head through prev to first, far enough back.
7. 数据 / data: 期间内条目、删除记录与公司条目的数据存在且与摘要一致；数据为空之处须已列为未提供或有删除记录。
   Data present and matching for the period, erasure records and company entries; null only where withheld
   or named by a later erasure record.
8. 一致性 / consistency: 较早的检查点是本检查点的前缀。 Earlier checkpoints are prefixes of this one.
9. 时间戳 / timestamps: RFC 3161 时间戳覆盖检查点原文。 RFC 3161 tokens over the checkpoint notes.
10. 回执 / receipts: 对方持有的回执在包中、证明分叉、证明遗漏，或晚于本包。
    Receipts held by the other side: in the bundle, a proven fork, a proven omission, or after this bundle.
11. 时间线 / timeline: 每个事实的当事人、证明状态与迟录标记；以及本包单独无法证明的事项。
    Each fact's subject, proof status and late-recorded flag; and what the bundle alone cannot prove.

本包单独无法证明：密钥持有人没有选用较旧的树、没有在 head 之后截断、没有签署分叉的历史。
见证人联署、可信时间戳、对方持有的回执以及对同一根哈希日志的审计可以反驳这些。
What the bundle alone cannot prove: that the key holder did not pick an older tree, cut the chain after
head, or sign a forked history. Witness cosignatures, RFC 3161 timestamps, receipts held by the other side,
and an audit of a log with the same root refute those.

每一步都可以手工完成（sha256sum、openssl、几行 Python）：见 hrledger 源代码中的 `docs/verifying.md`。
Every step can also be done by hand (sha256sum, openssl, a few lines of Python): see `docs/verifying.md`
in the hrledger source.
"""


def verify_md(pyz_sha256: str) -> str:
    """VERIFY.md for a bundle whose verifier.pyz has this SHA-256 (hex)."""
    return TEMPLATE.format(pyz_sha256=pyz_sha256)
