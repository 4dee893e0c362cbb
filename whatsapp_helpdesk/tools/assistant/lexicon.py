"""The words customers use for what the assistant can do, per concept and language. No Odoo.

Data only: :mod:`.understand` reads it. A concept (``ORDER``: "my order", ``STATUS``: "where is
it", ``TRACK``: "tracking number"...) is a set of phrases in the five languages of the assistant
(English, Portuguese, Spanish, Chinese, Indonesian), as people write them on WhatsApp: without
accents, in slang (``cadê``, ``dnd``, ``udh``), with common abbreviations. Every language's
phrases are looked for in every message: a customer's language is often not the one the
partner's record says.

A phrase is compared normalized (``tools.text.normalize``: case and accents folded). Latin
phrases are whole words in order; a word ending with ``*`` is a prefix (``ship*``: shipped,
shipping). Chinese phrases are substrings. Misspellings (one letter added, dropped, changed or
two swapped) are tolerated by the matcher for words of five letters or more.
"""

ORDER = "order"  # the customer's order, parcel, purchase
STATUS = "status"  # where is it, has it shipped, has it arrived
TRACK = "track"  # tracking number or link: an order-status question on its own
DURATION = "duration"  # how long, how many days: a general question (FAQ), not one order
WHERE = "where"
MY = "my"
INVOICE = "invoice"
PAY = "pay"
PAY_DONE = "pay_done"  # paid, received, gone through, confirmed
OWE = "owe"  # how much do I owe, balance, due
PAY_LINK = "pay_link"
PAY_MEANS = "pay_means"  # card, Pix, PayPal: a question on payment methods (FAQ)
RETURN = "return"
EXCHANGE = "exchange"
DEFECT = "defect"  # broken, wrong item, does not fit
POLICY = "policy"
HOURS = "hours"
OPEN = "open"  # open, close, what time
ADDRESS = "address"
STORE = "store"
DAY = "day"  # now, today, on Saturday: with OPEN, a question on opening hours
SMALLTALK = "smalltalk"
NEGATIVE = "negative"

PHRASES = {
    ORDER: {
        "en": (
            "order* | oder | package | parcel | purchase | shipment | my stuff | my item*"
            " | my delivery | bought | courier"
        ),
        "pt": (
            "pedido* | encomenda* | compra | minha compra | comprei | pacote | mercadoria"
            " | produto* | transportadora"
        ),
        "es": "pedido* | paquete* | compra | mi compra | compre | orden | mi envio | producto*",
        "id": "pesanan* | pesenan* | paket* | orderan* | barang* | kiriman* | belanjaan* | kurir*",
        "zh": "订单 | 快递 | 包裹 | 货物 | 我的货 | 我的东西 | 我买的 | 下单 | 下的单",
    },
    STATUS: {
        "en": (
            "where | wheres | status | arriv* | ship* | dispatch* | deliver* | coming | on the way"
            " | update | yet | still | late | not received | hasnt come | has it | get here"
            " | gets here | sent | sent out | waiting | supposed to arrive"
        ),
        "pt": (
            "cade | onde | status | cheg* | envia* | enviou | enviaram | despach* | saiu | sair"
            " | atrasad* | previsao | andamento | situacao | rastre* | nada do | ta onde | postad*"
            " | nada ate agora | ate agora nada | nao recebi | vem quando | parado"
        ),
        "es": (
            "donde | dnd | estado | status | lleg* | enviado | enviaron | envian | despach*"
            " | salio | camino | rastre* | seguimiento | nada de | sigue | no me llega | entregan"
            " | por donde va"
        ),
        "id": (
            "sampai mana | sampe mana | sampai | sampe | status | dikirim | kirim | belum"
            " | dateng | datang | kapan | cek | gimana | mana | udah dikirim | sudah dikirim"
            " | diproses | posisi | lama banget"
        ),
        "zh": (
            "到哪 | 在哪 | 状态 | 发货 | 到了 | 没到 | 能到 | 到底 | 还没 | 单号 | 查"
            " | 怎么还没 | 发出 | 送到 | 没收到 | 没动"
            " | 什么时候到"
        ),
    },
    TRACK: {
        "en": (
            "tracking | track my order | track order | tracking number | tracking link"
            " | tracking code | out for delivery"
        ),
        "pt": (
            "rastreio | rastreamento | codigo de rastreio | rastrear meu pedido | rastrear pedido"
            " | saiu para entrega | saiu pra entrega | saiu pra entregar"
        ),
        "es": (
            "numero de guia | guia | numero de seguimiento | rastreo | rastrear mi pedido"
            " | rastrear pedido | seguimiento de mi pedido"
        ),
        "id": "resi | nomor resi | no resi | lacak | tracking",
        "zh": (
            "物流 | 快递单号 | 单号 | 发货了 | 什么时候发货 | 到哪了 | 还没到 | 什么时候能到"
            " | 发出来了"
        ),
    },
    DURATION: {
        "en": "how long | how many days | how fast | how soon",
        "pt": "prazo | quanto tempo | quantos dias | demora quanto | em quanto tempo",
        "es": "cuanto tarda | cuantos dias | cuanto demora | cuanto tiempo | en cuanto tiempo",
        "id": "berapa lama | berapa hari | estimasi",
        "zh": "要几天 | 几天能 | 几天到 | 几天送到 | 多久 | 多长时间",
    },
    WHERE: {
        "en": "where | wheres",
        "pt": "onde | cade",
        "es": "donde | dnd",
        "id": "dimana | di mana | mana",
        "zh": "在哪 | 哪里",
    },
    MY: {
        "en": "my | mine",
        "pt": "meu | minha | meus | minhas",
        "es": "mi | mis",
        "id": "saya | sy | aku | ku",
        "zh": "我的 | 我买",
    },
    INVOICE: {
        "en": "invoice* | bill | my bill | receipt",
        "pt": "nota fiscal | nota | nf | fatura* | boleto* | segunda via | recibo",
        "es": "factura* | recibo | comprobante de pago",
        "id": "invoice* | faktur* | tagihan* | nota | kwitansi",
        "zh": "发票 | 账单 | 收据",
    },
    PAY: {
        "en": "payment | pay | paid",
        "pt": "pagamento | pagar | paguei | pago | pix | transferencia | deposito",
        "es": "pago | pagar | pague | transferencia | deposito",
        "id": "pembayaran | bayar | transfer | tf",
        "zh": "付款 | 付了 | 支付 | 转账 | 汇款",
    },
    PAY_DONE: {
        "en": (
            "received | receive | gone through | went through | go through | confirm* | paid"
            " | already paid"
        ),
        "pt": (
            "receberam | recebeu | recebido | caiu | confirm* | compensou | ja paguei | paguei"
            " | fiz o pix | fiz o pagamento | fiz a transferencia | conseguem ver"
        ),
        "es": (
            "recibieron | recibido | acredit* | confirm* | ya pague | pague | hice la transferencia"
        ),
        "id": (
            "sudah transfer | udah transfer | sudah tf | udah tf | sudah bayar | diterima | masuk"
            " | lunas | konfirmasi | dicek"
        ),
        "zh": "收到 | 确认 | 付了吗 | 已经付 | 已经转账 | 已转账",
    },
    OWE: {
        "en": (
            "owe | outstanding | balance | amount due | due | left to pay | still to pay"
            " | remaining"
        ),
        "pt": (
            "quanto devo | quanto eu devo | devo | saldo | em aberto | vence | vencimento"
            " | falta pagar | quanto falta"
        ),
        "es": (
            "cuanto debo | debo | saldo | adeudo | vence | vencimiento | falta por pagar"
            " | falta pagar"
        ),
        "id": "jatuh tempo | harus dibayar | sisa tagihan | sisa pembayaran",
        "zh": "欠 | 还要付 | 还需要付 | 付多少 | 到期",
    },
    PAY_LINK: {
        "en": "payment link | pay link | link to pay",
        "pt": "link de pagamento | link pra pagar | link para pagar | link do pagamento",
        "es": "link de pago | enlace de pago | liga de pago",
        "id": "link pembayaran | link bayar",
        "zh": "付款链接 | 支付链接",
    },
    PAY_MEANS: {
        "en": "credit card | card | paypal | cash | installment* | apple pay | accept",
        "pt": "cartao | cartao de credito | parcel* | credito | debito | aceitam | no pix",
        "es": "tarjeta | oxxo | meses sin intereses | efectivo | paypal | aceptan",
        "id": "kartu kredit | cod | cicilan | paylater",
        "zh": "支付宝 | 微信支付 | 信用卡 | 刷卡 | 分期",
    },
    RETURN: {
        "en": "return* | retrun | refund* | send it back | money back | give it back",
        "pt": (
            "devolver | devolvo | devolucao | devolucoes | reembolso | estorno | dinheiro de volta"
            " | troca | trocar | troco"
        ),
        "es": (
            "devolver | devolverlo | devolverla | devolucion | devoluciones | reembolso"
            " | mi dinero | cambiar* | cambio | regresar* | devuelvan"
        ),
        "id": (
            "retur | refund | pengembalian | balikin | kembalikan | kembaliin | tukar | tuker"
            " | ganti barang | uang kembali | dikembalikan | kembalikan"
        ),
        "zh": "退货 | 退款 | 换货 | 退换 | 换一个 | 退回 | 退钱 | 可以退 | 能退 | 退吗 | 能换",
    },
    EXCHANGE: {
        "en": "exchange | swap | other size | bigger size | smaller size",
        "pt": "troca | trocar | troco | outro tamanho",
        "es": "cambiar* | cambio | otra talla",
        "id": "tukar | tuker | ganti",
        "zh": "换货 | 换一个 | 换",
    },
    DEFECT: {
        "en": (
            "broken | damaged | defective | wrong item | wrong size | wrong color | doesnt fit"
            " | not working | scratch*"
        ),
        "pt": (
            "quebrado | quebrada | quebrou | defeito | errado | errada | estragado | danificado"
            " | nao gostei | nao serviu | arrependi | ficou pequeno | ficou grande"
        ),
        "es": (
            "roto | rota | danado | equivocado | incorrecto | defectuoso | no me gusto | rayad*"
            " | me quedo chic* | me quedo grande"
        ),
        "id": "rusak | salah | cacat | pecah | kekecilan | kebesaran | lecet | beda sama foto",
        "zh": "坏了 | 破了 | 发错 | 错了 | 不合适 | 划痕 | 质量太差",
    },
    POLICY: {
        "en": "policy",
        "pt": "politica",
        "es": "politica",
        "id": "kebijakan | aturan | batas",
        "zh": "政策",
    },
    HOURS: {
        "en": "opening hours | opening hrs | business hours | hours | open hours | closing time",
        "pt": "horario* | horario de funcionamento | horario de atendimento | que horas",
        "es": "horario* | horario de atencion | a que hora | hasta que hora",
        "id": "jam buka | jam operasional | jam kerja | jam berapa",
        "zh": "营业时间 | 几点开门 | 几点关门 | 上班时间",
    },
    OPEN: {
        "en": "open | close | closed | closing",
        "pt": "abrem | abre | aberto | aberta | abertos | fecham | fecha | funcionam",
        "es": "abren | abierto | abiertos | cierran | cierra | atienden",
        "id": "buka | tutup",
        "zh": "开门 | 关门 | 营业 | 开吗",
    },
    ADDRESS: {
        "en": "address | location | located",
        "pt": "endereco | onde fica | onde voces ficam | localizacao",
        "es": "direccion | ubicados | ubicacion | donde estan",
        "id": "alamat | lokasi",
        "zh": "地址 | 店在哪 | 门店 | 位置",
    },
    STORE: {
        "en": "store | shop",
        "pt": "loja",
        "es": "tienda | local",
        "id": "toko | tokonya | outlet",
        "zh": "店",
    },
    DAY: {
        "en": (
            "now | today | tomorrow | weekend | when | what time | monday | tuesday | wednesday"
            " | thursday | friday | saturday | sunday | holiday*"
        ),
        "pt": "agora | hoje | amanha | sabado | domingo | feriado* | fim de semana | que horas",
        "es": "ahora | hoy | manana | sabado* | domingo* | feriado* | fin de semana | a que hora",
        "id": "sekarang | hari ini | besok | minggu | sabtu | libur | jam berapa",
        "zh": "现在 | 今天 | 明天 | 周末 | 周六 | 周日 | 星期 | 几点",
    },
    SMALLTALK: {
        "en": (
            "hi | hello | hey | hello there | thanks | thank you | thx | ok | okay | good morning"
            " | good afternoon | good evening | lol | cool | great | bye"
        ),
        "pt": (
            "oi | ola | bom dia | boa tarde | boa noite | obrigado | obrigada | valeu | ok | blz"
            " | beleza | kkk* | tudo bem | tchau"
        ),
        "es": (
            "hola | buenas | buenos dias | buenas tardes | buenas noches | gracias | ok | perfecto"
            " | jaja* | que tal | saludos"
        ),
        "id": (
            "halo | hai | terima kasih | makasih | ok | oke | siap | wkwk* | selamat pagi"
            " | selamat siang | selamat sore | selamat malam"
        ),
        "zh": "你好 | 谢谢 | 好的 | 在吗 | 哈哈 | 早上好 | 晚上好 | 再见",
    },
    NEGATIVE: {
        "en": (
            "ridiculous | worst | terrible | awful | scam* | fraud | unacceptable | angry"
            " | disgusting | lawyer | horrible | useless | pathetic | fed up"
        ),
        "pt": (
            "absurdo | pessimo | pessima | horrivel | vergonha | procon | reclame aqui | lixo"
            " | palhacada | golpe | enganad* | ridiculo"
        ),
        "es": "estafa | pesimo | pesima | horrible | fraude | ladrones | verguenza | harto | harta",
        "id": "kecewa | parah | buruk | jelek | penipu | tipu | nyesel | kesal",
        "zh": "太差 | 垃圾 | 骗子 | 投诉 | 差评 | 骗人 | 坑人",
    },
}
"""{concept: {base language: phrases separated by ``|``}}."""
