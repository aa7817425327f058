"""Reading PDFs back in tests: the text of each page and the QR codes printed on it.

pypdfium2 renders pages without system packages and zxing-cpp decodes the QR codes from
the rendered image, as a phone camera would from the printed poster.
"""

from __future__ import annotations

import pypdfium2 as pdfium
import zxingcpp

# Dots per inch of the rendering: small QR codes of the programme poster need ~200.
DPI = 200


def page_texts(pdf: bytes) -> list[str]:
    """The extracted text of every page."""
    document = pdfium.PdfDocument(pdf)
    try:
        texts = []
        for page in document:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


def page_qr_codes(pdf: bytes, dpi: int = DPI) -> list[list[str]]:
    """The QR codes decoded from every page rendered at `dpi`, top to bottom."""
    document = pdfium.PdfDocument(pdf)
    try:
        found = []
        for page in document:
            bitmap = page.render(scale=dpi / 72)
            image = bitmap.to_pil()
            codes = [
                c
                for c in zxingcpp.read_barcodes(image)
                if c.format == zxingcpp.BarcodeFormat.QRCode
            ]
            found.append([c.text for c in sorted(codes, key=lambda c: c.position.top_left.y)])
            bitmap.close()
            page.close()
        return found
    finally:
        document.close()


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """Width and height of every page in points."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.get_size() for page in document]
    finally:
        document.close()
