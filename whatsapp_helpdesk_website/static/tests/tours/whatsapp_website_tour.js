import { registry } from "@web/core/registry";

// The visitor's click must not leave the test browser for wa.me: the link is checked, the
// navigation dropped after our handlers ran.
function clickWithoutLeaving() {
    document.addEventListener("click", (ev) => ev.preventDefault(), { once: true });
    this.anchor.click();
}

registry.category("web_tour.tours").add("whatsapp_helpdesk_website_block", {
    url: "/whatsapp-test?utm_campaign=summer",
    steps: () => [
        {
            content: "The floating button opens a chat with the shop's number",
            trigger: "#o_whatsapp_helpdesk_button a[href^='https://wa.me/15550009999?text=']",
        },
        {
            content: "The visitor clicks the WhatsApp building block",
            trigger: "a.o_whatsapp_helpdesk_block",
            run: clickWithoutLeaving,
        },
        {
            content: "Its link names the page and the campaign of the visit",
            trigger:
                "a.o_whatsapp_helpdesk_block[href^='https://wa.me/15550009999?text=']" +
                "[href*='c%3Dsummer'][href*='pg%3D%2Fwhatsapp-test']",
        },
    ],
});

registry.category("web_tour.tours").add("whatsapp_helpdesk_website_product", {
    steps: () => [
        {
            content: "The visitor asks about the product",
            trigger: "a.o_whatsapp_helpdesk_product[href*='TOUR-1'][href*='s%3Dinstagram']",
            run: clickWithoutLeaving,
        },
        {
            content: "The floating button is there too",
            trigger: "#o_whatsapp_helpdesk_button a",
        },
    ],
});
