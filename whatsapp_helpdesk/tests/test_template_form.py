from odoo.tests import Form, TransactionCase, tagged

from .common import TemplateCase


@tagged("post_install", "-at_install")
class TestTemplateForm(TemplateCase, TransactionCase):
    """The template form as a manager fills it in the browser (odoo.tests.Form sends what the
    web client sends: read-only fields only with force_save)."""

    def new_template_form(self):
        form = Form(self.env["whatsapp.template"].with_user(self.manager))
        form.name = "order_ready"
        form.language = "pt_BR"
        form.account_id = self.account
        form.model_id = self.sale_model
        form.body = "Olá {{1}}, seu pedido {{2}} está pronto."
        return form

    @staticmethod
    def fill_variables(form, paths):
        for index, (path, sample) in enumerate(paths):
            with form.variable_ids.edit(index) as line:
                line.field_path = path
                line.sample = sample

    def test_a_template_with_variables_saves_from_the_form(self):
        form = self.new_template_form()
        self.assertEqual(len(form.variable_ids), 2)
        self.fill_variables(form, [("partner_id.name", "Ana"), ("name", "S00042")])
        template = form.save()
        self.assertRecordValues(
            template.variable_ids,
            [
                {"location": "body", "name": "1", "field_path": "partner_id.name"},
                {"location": "body", "name": "2", "field_path": "name"},
            ],
        )
        self.assertFalse(template.lint_problems, template.lint_problems)

    def test_editing_the_body_after_saving_keeps_the_variables(self):
        form = self.new_template_form()
        self.fill_variables(form, [("partner_id.name", "Ana"), ("name", "S00042")])
        template = form.save()
        form = Form(template.with_user(self.manager))
        form.body = "Olá {{1}}, seu pedido {{2}} de {{3}} está pronto."
        self.assertEqual(len(form.variable_ids), 3)
        with form.variable_ids.edit(2) as line:
            line.field_path = "amount_total"
            line.sample = "R$ 10,00"
        form.save()
        self.assertEqual(template.variable_ids.mapped("name"), ["1", "2", "3"])
        self.assertEqual(set(template.variable_ids.mapped("location")), {"body"})

    def test_duplicate_gets_a_free_name(self):
        template = self.make_template()
        first = template.with_user(self.manager).copy()
        second = template.with_user(self.manager).copy()
        self.assertEqual(first.name, "order_confirmed_copy")
        self.assertEqual(second.name, "order_confirmed_copy_2")
        self.assertEqual(first.language, template.language)
        self.assertEqual(len(first.variable_ids), len(template.variable_ids))
        self.assertEqual(first.status, "draft")
        self.assertFalse(first.lint_problems, first.lint_problems)

    def test_language_variants_are_told_apart(self):
        pt = self.make_template(status="approved")
        en = self.make_template(
            language="en_US",
            status="approved",
            body="Hi {{1}}, your order {{2}} of {{3}} is confirmed on {{4}}. Thanks!",
        )
        self.assertEqual(pt.display_name, "order_confirmed (pt_BR)")
        self.assertEqual(en.display_name, "order_confirmed (en_US)")
