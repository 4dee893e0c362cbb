"""What the assistant says, in the five languages it speaks, and the form of its replies. No Odoo.

:func:`say` gives the sentence ``key`` in the customer's language (English when the language is
not one of :data:`LANGUAGES`), its ``{placeholders}`` filled with values the caller formatted
(``tools.formatting``: amounts and dates as the customer writes them). Values are inserted as
they are: a customer's or a record's text is never read as a format.

A :class:`Reply` is what one answer sends: a text, and either the rows of an interactive list
(:class:`Row`, at most ten, Meta's limit) or a "talk to a person" button; ``state`` is what the
assistant waits for next (None: nothing).
"""

from dataclasses import dataclass, field

from ..text import base_language

LANGUAGES = ("en", "pt", "es", "zh", "id")
LOCALES = {"en": "en_US", "pt": "pt_BR", "es": "es", "zh": "zh_CN", "id": "id_ID"}
"""The locale a bare language is formatted in, when the customer's code has no region."""

MAX_ROWS = 10


def language_of(code) -> str:
    """The assistant's language for an Odoo or WhatsApp language code (``pt_BR`` -> ``pt``);
    ``en`` for any other."""
    base = base_language(code)
    return base if base in LANGUAGES else "en"


def locale_of(code) -> str:
    """The locale to format values in for ``code``: the code itself when the assistant speaks its
    language (``pt_PT`` stays ``pt_PT``), else ``en_US``."""
    base = base_language(code)
    if base not in LANGUAGES:
        return LOCALES["en"]
    return code if isinstance(code, str) and "_" in code else LOCALES[base]


@dataclass(frozen=True)
class Row:
    """One choice of an interactive list: its id comes back in the customer's answer."""

    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class Reply:
    text: str
    rows: tuple[Row, ...] = ()
    list_button: str = ""
    offer_person: bool = False
    state: dict | None = field(default=None, compare=False)


def say(key: str, language, **values) -> str:
    """The sentence ``key`` in ``language`` (any code; see :func:`language_of`), filled in."""
    texts = PHRASES[key]
    template = texts.get(language_of(language)) or texts["en"]
    return template.format_map({name: str(value) for name, value in values.items()})


def join(parts) -> str:
    """Sentences (or lines) of a reply, the empty ones left out."""
    return "\n".join(part for part in parts if part)


PHRASES = {
    # -- order status ----------------------------------------------------------------------------
    "order.none": {
        "en": "I found no recent order under your number. If you have an order reference "
        "(like S00042), send it here.",
        "pt": "Não encontrei pedidos recentes no seu número. Se tiver o número do pedido "
        "(como S00042), envie aqui.",
        "es": "No encontré pedidos recientes con tu número. Si tienes el número de pedido "
        "(como S00042), envíalo aquí.",
        "zh": "没有找到您号码下的近期订单。如果您有订单号（例如 S00042），请发送给我们。",
        "id": "Saya tidak menemukan pesanan terbaru dengan nomor Anda. Jika Anda punya nomor "
        "pesanan (misalnya S00042), kirim di sini.",
    },
    "order.unknown": {
        "en": "I could not find order {ref} under your number. Please check the reference.",
        "pt": "Não encontrei o pedido {ref} no seu número. Confira o número, por favor.",
        "es": "No encontré el pedido {ref} con tu número. Por favor revisa el número.",
        "zh": "在您的号码下没有找到订单 {ref}。请核对订单号。",
        "id": "Saya tidak menemukan pesanan {ref} dengan nomor Anda. Mohon periksa nomornya.",
    },
    "order.ask_reference": {
        "en": "To keep your data safe, please send the reference of your order (like S00042).",
        "pt": "Para proteger seus dados, envie o número do seu pedido (como S00042).",
        "es": "Para proteger tus datos, envía el número de tu pedido (como S00042).",
        "zh": "为保护您的信息，请发送您的订单号（例如 S00042）。",
        "id": "Demi keamanan data Anda, kirimkan nomor pesanan Anda (misalnya S00042).",
    },
    "order.pick": {
        "en": "You have several recent orders. Which one is it about?",
        "pt": "Você tem vários pedidos recentes. Qual deles?",
        "es": "Tienes varios pedidos recientes. ¿Cuál?",
        "zh": "您有多个近期订单。请问是哪一个？",
        "id": "Anda punya beberapa pesanan terbaru. Yang mana?",
    },
    "order.button": {
        "en": "Orders",
        "pt": "Pedidos",
        "es": "Pedidos",
        "zh": "订单",
        "id": "Pesanan",
    },
    "order.quotation": {
        "en": "{ref} ({amount}) is a quotation waiting for your confirmation.",
        "pt": "{ref} ({amount}) é um orçamento aguardando sua confirmação.",
        "es": "{ref} ({amount}) es una cotización que espera tu confirmación.",
        "zh": "{ref}（{amount}）是一份报价单，正在等待您的确认。",
        "id": "{ref} ({amount}) adalah penawaran yang menunggu konfirmasi Anda.",
    },
    "order.cancelled": {
        "en": "Order {ref} was cancelled.",
        "pt": "O pedido {ref} foi cancelado.",
        "es": "El pedido {ref} fue cancelado.",
        "zh": "订单 {ref} 已取消。",
        "id": "Pesanan {ref} telah dibatalkan.",
    },
    "order.confirmed": {
        "en": "Order {ref} ({amount}) is confirmed and being prepared.",
        "pt": "O pedido {ref} ({amount}) está confirmado e em preparação.",
        "es": "El pedido {ref} ({amount}) está confirmado y en preparación.",
        "zh": "订单 {ref}（{amount}）已确认，正在备货。",
        "id": "Pesanan {ref} ({amount}) sudah dikonfirmasi dan sedang disiapkan.",
    },
    "order.expected": {
        "en": "Expected delivery: {date}.",
        "pt": "Previsão de entrega: {date}.",
        "es": "Entrega estimada: {date}.",
        "zh": "预计送达：{date}。",
        "id": "Perkiraan tiba: {date}.",
    },
    "order.shipped": {
        "en": "Order {ref} was shipped on {date}.",
        "pt": "O pedido {ref} foi enviado em {date}.",
        "es": "El pedido {ref} fue enviado el {date}.",
        "zh": "订单 {ref} 已于 {date} 发货。",
        "id": "Pesanan {ref} dikirim pada {date}.",
    },
    "order.partial": {
        "en": "Part of order {ref} was shipped on {date}; the rest is being prepared.",
        "pt": "Parte do pedido {ref} foi enviada em {date}; o restante está em preparação.",
        "es": "Parte del pedido {ref} fue enviada el {date}; el resto está en preparación.",
        "zh": "订单 {ref} 的部分商品已于 {date} 发货，其余正在备货。",
        "id": "Sebagian pesanan {ref} dikirim pada {date}; sisanya sedang disiapkan.",
    },
    "order.delivered": {
        "en": "Order {ref} was delivered on {date}.",
        "pt": "O pedido {ref} foi entregue em {date}.",
        "es": "El pedido {ref} fue entregado el {date}.",
        "zh": "订单 {ref} 已于 {date} 送达。",
        "id": "Pesanan {ref} sudah diterima pada {date}.",
    },
    "order.carrier": {
        "en": "Carrier: {carrier}.",
        "pt": "Transportadora: {carrier}.",
        "es": "Paquetería: {carrier}.",
        "zh": "承运商：{carrier}。",
        "id": "Kurir: {carrier}.",
    },
    "order.track_link": {
        "en": "Track it here: {url}",
        "pt": "Acompanhe aqui: {url}",
        "es": "Síguelo aquí: {url}",
        "zh": "物流跟踪：{url}",
        "id": "Lacak di sini: {url}",
    },
    "order.track_ref": {
        "en": "Tracking number: {tracking}",
        "pt": "Código de rastreio: {tracking}",
        "es": "Número de guía: {tracking}",
        "zh": "快递单号：{tracking}",
        "id": "Nomor resi: {tracking}",
    },
    "stage.quotation": {
        "en": "Quotation",
        "pt": "Orçamento",
        "es": "Cotización",
        "zh": "报价单",
        "id": "Penawaran",
    },
    "stage.confirmed": {
        "en": "Being prepared",
        "pt": "Em preparação",
        "es": "En preparación",
        "zh": "备货中",
        "id": "Disiapkan",
    },
    "stage.partial": {
        "en": "Partly shipped",
        "pt": "Enviado em parte",
        "es": "Enviado en parte",
        "zh": "部分发货",
        "id": "Dikirim sebagian",
    },
    "stage.shipped": {
        "en": "Shipped",
        "pt": "Enviado",
        "es": "Enviado",
        "zh": "已发货",
        "id": "Dikirim",
    },
    "stage.delivered": {
        "en": "Delivered",
        "pt": "Entregue",
        "es": "Entregado",
        "zh": "已送达",
        "id": "Diterima",
    },
    "stage.cancelled": {
        "en": "Cancelled",
        "pt": "Cancelado",
        "es": "Cancelado",
        "zh": "已取消",
        "id": "Dibatalkan",
    },
    # -- invoices ----------------------------------------------------------------------------------
    "invoice.none": {
        "en": "I found no invoice under your number.",
        "pt": "Não encontrei faturas no seu número.",
        "es": "No encontré facturas con tu número.",
        "zh": "没有找到您号码下的发票。",
        "id": "Saya tidak menemukan tagihan dengan nomor Anda.",
    },
    "invoice.unknown": {
        "en": "I could not find an invoice for {ref} under your number.",
        "pt": "Não encontrei fatura de {ref} no seu número.",
        "es": "No encontré una factura de {ref} con tu número.",
        "zh": "在您的号码下没有找到 {ref} 的发票。",
        "id": "Saya tidak menemukan tagihan untuk {ref} dengan nomor Anda.",
    },
    "invoice.ask_reference": {
        "en": "To keep your data safe, please send the number of your invoice or order.",
        "pt": "Para proteger seus dados, envie o número da fatura ou do pedido.",
        "es": "Para proteger tus datos, envía el número de tu factura o de tu pedido.",
        "zh": "为保护您的信息，请发送您的发票号或订单号。",
        "id": "Demi keamanan data Anda, kirimkan nomor tagihan atau nomor pesanan Anda.",
    },
    "invoice.open": {
        "en": "Invoice {ref} of {date}: {residual} to pay by {due}.",
        "pt": "Fatura {ref} de {date}: {residual} a pagar até {due}.",
        "es": "Factura {ref} del {date}: {residual} por pagar antes del {due}.",
        "zh": "发票 {ref}（{date}）：待付 {residual}，付款期限 {due}。",
        "id": "Tagihan {ref} tanggal {date}: {residual} jatuh tempo {due}.",
    },
    "invoice.overdue": {
        "en": "Invoice {ref} of {date}: {residual} to pay, overdue since {due}.",
        "pt": "Fatura {ref} de {date}: {residual} a pagar, vencida desde {due}.",
        "es": "Factura {ref} del {date}: {residual} por pagar, vencida desde el {due}.",
        "zh": "发票 {ref}（{date}）：待付 {residual}，已于 {due} 逾期。",
        "id": "Tagihan {ref} tanggal {date}: {residual}, lewat jatuh tempo sejak {due}.",
    },
    "invoice.in_payment": {
        "en": "Invoice {ref} ({amount}): your payment is being processed.",
        "pt": "Fatura {ref} ({amount}): seu pagamento está sendo processado.",
        "es": "Factura {ref} ({amount}): tu pago se está procesando.",
        "zh": "发票 {ref}（{amount}）：您的付款正在处理中。",
        "id": "Tagihan {ref} ({amount}): pembayaran Anda sedang diproses.",
    },
    "invoice.paid": {
        "en": "Invoice {ref} ({amount}) is paid. Thank you!",
        "pt": "A fatura {ref} ({amount}) está paga. Obrigado!",
        "es": "La factura {ref} ({amount}) está pagada. ¡Gracias!",
        "zh": "发票 {ref}（{amount}）已付清。谢谢！",
        "id": "Tagihan {ref} ({amount}) sudah lunas. Terima kasih!",
    },
    "invoice.all_paid": {
        "en": "Nothing is due: all your invoices are paid. Thank you!",
        "pt": "Nada em aberto: todas as suas faturas estão pagas. Obrigado!",
        "es": "No tienes saldo pendiente: todas tus facturas están pagadas. ¡Gracias!",
        "zh": "您没有待付款项，所有发票均已付清。谢谢！",
        "id": "Tidak ada tagihan tertunggak: semua tagihan Anda sudah lunas. Terima kasih!",
    },
    "invoice.pay_link": {
        "en": "Pay online: {url}",
        "pt": "Pague online: {url}",
        "es": "Paga en línea: {url}",
        "zh": "在线付款：{url}",
        "id": "Bayar online: {url}",
    },
    "invoice.total": {
        "en": "In total, {amount} is due.",
        "pt": "No total, {amount} em aberto.",
        "es": "En total, {amount} pendiente.",
        "zh": "合计待付 {amount}。",
        "id": "Total tagihan: {amount}.",
    },
    # -- returns -----------------------------------------------------------------------------------
    "return.none": {
        "en": "I found no delivered order to return under your number. If you have the order "
        "reference (like S00042), send it here.",
        "pt": "Não encontrei pedidos entregues para devolver no seu número. Se tiver o número "
        "do pedido (como S00042), envie aqui.",
        "es": "No encontré pedidos entregados para devolver con tu número. Si tienes el número "
        "de pedido (como S00042), envíalo aquí.",
        "zh": "没有找到您号码下可退货的已送达订单。如果您有订单号（例如 S00042），请发送给我们。",
        "id": "Saya tidak menemukan pesanan terkirim untuk diretur dengan nomor Anda. Jika Anda "
        "punya nomor pesanan (misalnya S00042), kirim di sini.",
    },
    "return.not_shipped": {
        "en": "Order {ref} has not been shipped yet, so there is nothing to return. Ask me "
        '"where is my order" to follow it.',
        "pt": "O pedido {ref} ainda não foi enviado, então não há o que devolver. Pergunte "
        '"cadê meu pedido" para acompanhar.',
        "es": "El pedido {ref} aún no se ha enviado, así que no hay nada que devolver. "
        'Pregúntame "¿dónde está mi pedido?" para seguirlo.',
        "zh": "订单 {ref} 尚未发货，暂时无法退货。您可以问我“我的订单到哪了”来查看进度。",
        "id": "Pesanan {ref} belum dikirim, jadi belum ada yang bisa diretur. Tanyakan "
        '"pesanan saya sampai mana" untuk melacaknya.',
    },
    "return.pick_order": {
        "en": "Which order do you want to return or exchange?",
        "pt": "Qual pedido você quer devolver ou trocar?",
        "es": "¿Qué pedido quieres devolver o cambiar?",
        "zh": "您想退换哪个订单？",
        "id": "Pesanan mana yang ingin Anda retur atau tukar?",
    },
    "return.pick_line": {
        "en": "Which item of {ref}?",
        "pt": "Qual item do pedido {ref}?",
        "es": "¿Qué artículo del pedido {ref}?",
        "zh": "订单 {ref} 中的哪件商品？",
        "id": "Barang mana dari pesanan {ref}?",
    },
    "return.all_items": {
        "en": "All items",
        "pt": "Todos os itens",
        "es": "Todos los artículos",
        "zh": "全部商品",
        "id": "Semua barang",
    },
    "return.items_button": {
        "en": "Items",
        "pt": "Itens",
        "es": "Artículos",
        "zh": "商品",
        "id": "Barang",
    },
    "return.ask_reason": {
        "en": "What is the reason? Choose one, or write it in your own words.",
        "pt": "Qual o motivo? Escolha um, ou escreva com suas palavras.",
        "es": "¿Cuál es el motivo? Elige uno, o escríbelo con tus palabras.",
        "zh": "请问原因是什么？请选择，或直接输入。",
        "id": "Apa alasannya? Pilih salah satu, atau tulis dengan kata-kata Anda.",
    },
    "return.reasons_button": {
        "en": "Reasons",
        "pt": "Motivos",
        "es": "Motivos",
        "zh": "原因",
        "id": "Alasan",
    },
    "reason.damaged": {
        "en": "Arrived damaged",
        "pt": "Chegou danificado",
        "es": "Llegó dañado",
        "zh": "商品损坏",
        "id": "Barang rusak",
    },
    "reason.wrong_item": {
        "en": "Wrong item",
        "pt": "Produto errado",
        "es": "Producto equivocado",
        "zh": "发错商品",
        "id": "Barang salah",
    },
    "reason.size": {
        "en": "Size does not fit",
        "pt": "Tamanho não serviu",
        "es": "La talla no queda",
        "zh": "尺码不合适",
        "id": "Ukuran tidak pas",
    },
    "reason.not_as_described": {
        "en": "Not as described",
        "pt": "Diferente do anúncio",
        "es": "No es como se describe",
        "zh": "与描述不符",
        "id": "Tidak sesuai deskripsi",
    },
    "reason.changed_mind": {
        "en": "Changed my mind",
        "pt": "Desisti da compra",
        "es": "Cambié de opinión",
        "zh": "不想要了",
        "id": "Berubah pikiran",
    },
    "reason.other": {"en": "Other", "pt": "Outro", "es": "Otro", "zh": "其他", "id": "Lainnya"},
    "return.created": {
        "en": "Thank you. Your return request {ticket} for order {ref} is registered; we will "
        "contact you here with the next steps.",
        "pt": "Obrigado. Sua solicitação de devolução {ticket} do pedido {ref} foi registrada; "
        "vamos falar com você aqui sobre os próximos passos.",
        "es": "Gracias. Tu solicitud de devolución {ticket} del pedido {ref} quedó registrada; "
        "te contactaremos aquí con los siguientes pasos.",
        "zh": "谢谢。您的订单 {ref} 的退货申请 {ticket} 已登记，我们会在这里联系您告知后续步骤。",
        "id": "Terima kasih. Permintaan retur {ticket} untuk pesanan {ref} sudah tercatat; kami "
        "akan menghubungi Anda di sini untuk langkah berikutnya.",
    },
    "exchange.created": {
        "en": "Thank you. Your exchange request {ticket} for order {ref} is registered; we will "
        "contact you here with the next steps.",
        "pt": "Obrigado. Sua solicitação de troca {ticket} do pedido {ref} foi registrada; "
        "vamos falar com você aqui sobre os próximos passos.",
        "es": "Gracias. Tu solicitud de cambio {ticket} del pedido {ref} quedó registrada; "
        "te contactaremos aquí con los siguientes pasos.",
        "zh": "谢谢。您的订单 {ref} 的换货申请 {ticket} 已登记，我们会在这里联系您告知后续步骤。",
        "id": "Terima kasih. Permintaan penukaran {ticket} untuk pesanan {ref} sudah tercatat; "
        "kami akan menghubungi Anda di sini untuk langkah berikutnya.",
    },
    # -- opening hours -----------------------------------------------------------------------------
    "hours.schedule": {
        "en": "Our opening hours: {schedule}.",
        "pt": "Nosso horário: {schedule}.",
        "es": "Nuestro horario: {schedule}.",
        "zh": "营业时间：{schedule}。",
        "id": "Jam operasional kami: {schedule}.",
    },
    "hours.always": {
        "en": "We answer here at any time.",
        "pt": "Respondemos aqui a qualquer hora.",
        "es": "Respondemos aquí a cualquier hora.",
        "zh": "我们随时在这里为您服务。",
        "id": "Kami menjawab di sini kapan saja.",
    },
    "hours.open_now": {
        "en": "We are open now.",
        "pt": "Estamos abertos agora.",
        "es": "Ahora estamos abiertos.",
        "zh": "我们现在正在营业。",
        "id": "Saat ini kami buka.",
    },
    "hours.closed_now": {
        "en": "We are closed now; we open again {when}.",
        "pt": "Estamos fechados agora; abrimos de novo {when}.",
        "es": "Ahora estamos cerrados; volvemos a abrir el {when}.",
        "zh": "我们现在已打烊，下次营业时间：{when}。",
        "id": "Saat ini kami tutup; kami buka lagi {when}.",
    },
    "hours.address": {
        "en": "Address: {address}.",
        "pt": "Endereço: {address}.",
        "es": "Dirección: {address}.",
        "zh": "地址：{address}。",
        "id": "Alamat: {address}.",
    },
    # -- hand-off and help -------------------------------------------------------------------------
    "handoff.now": {
        "en": "Thank you! A person from our team will answer you here shortly.",
        "pt": "Obrigado! Uma pessoa da nossa equipe vai responder você aqui em breve.",
        "es": "¡Gracias! Una persona de nuestro equipo te responderá aquí en breve.",
        "zh": "谢谢！我们的工作人员很快会在这里回复您。",
        "id": "Terima kasih! Tim kami akan segera membalas Anda di sini.",
    },
    "handoff.later": {
        "en": "Thank you! Our team is away right now; a person will answer you here from {when}.",
        "pt": "Obrigado! Nossa equipe não está disponível agora; uma pessoa vai responder você "
        "aqui a partir de {when}.",
        "es": "¡Gracias! Nuestro equipo no está disponible ahora; una persona te responderá aquí "
        "a partir del {when}.",
        "zh": "谢谢！我们的团队现在不在线，工作人员将于 {when} 起在这里回复您。",
        "id": "Terima kasih! Tim kami sedang tidak bertugas; seseorang akan membalas Anda di sini "
        "mulai {when}.",
    },
    "handoff.ticket": {
        "en": "Your request number is {ticket}.",
        "pt": "O número da sua solicitação é {ticket}.",
        "es": "El número de tu solicitud es {ticket}.",
        "zh": "您的请求编号是 {ticket}。",
        "id": "Nomor permintaan Anda adalah {ticket}.",
    },
    "handoff.button": {
        "en": "Talk to a person",
        "pt": "Falar com atendente",
        "es": "Hablar con alguien",
        "zh": "转人工",
        "id": "Bicara dengan CS",
    },
    "menu.help": {
        "en": "Sorry, I did not understand. I can help with these, or you can talk to a person:",
        "pt": "Desculpe, não entendi. Posso ajudar com isto, ou você pode falar com uma pessoa:",
        "es": "Perdón, no entendí. Puedo ayudarte con esto, o puedes hablar con una persona:",
        "zh": "抱歉，我没有理解。我可以帮您处理以下事项，您也可以转人工：",
        "id": "Maaf, saya belum paham. Saya bisa bantu hal berikut, atau Anda bisa bicara "
        "dengan CS:",
    },
    "menu.button": {
        "en": "Options",
        "pt": "Opções",
        "es": "Opciones",
        "zh": "选项",
        "id": "Pilihan",
    },
    "menu.order_status": {
        "en": "Where is my order",
        "pt": "Cadê meu pedido",
        "es": "Dónde está mi pedido",
        "zh": "我的订单到哪了",
        "id": "Status pesanan",
    },
    "menu.invoice": {
        "en": "Invoices and payments",
        "pt": "Faturas e pagamentos",
        "es": "Facturas y pagos",
        "zh": "发票和付款",
        "id": "Tagihan & pembayaran",
    },
    "menu.return": {
        "en": "Return or exchange",
        "pt": "Devolução ou troca",
        "es": "Devolución o cambio",
        "zh": "退货或换货",
        "id": "Retur atau tukar",
    },
    "menu.hours": {
        "en": "Opening hours",
        "pt": "Horário e endereço",
        "es": "Horario y dirección",
        "zh": "营业时间和地址",
        "id": "Jam buka & alamat",
    },
    "section": {"en": "Choose", "pt": "Escolha", "es": "Elige", "zh": "请选择", "id": "Pilih"},
}
"""{key: {language: sentence}}: every key has the five languages."""
