"""Forms of the team pages: members, tokens and snapshot upload."""

from __future__ import annotations

from django import forms

from dashboard.team.models import Member

__all__ = ["ImportForm", "MemberForm", "TokenForm"]


class MemberForm(forms.ModelForm[Member]):
    name = forms.RegexField(
        regex=r"^[A-Za-z0-9_][A-Za-z0-9._@ -]{0,63}$",
        max_length=64,
        error_messages={"invalid": "Use letters, digits, spaces and . _ @ - only."},
    )

    class Meta:
        model = Member
        fields = ("name",)


class TokenForm(forms.Form):
    member = forms.ModelChoiceField(queryset=Member.objects.all())
    label = forms.CharField(max_length=100, required=False)


class ImportForm(forms.Form):
    member = forms.ModelChoiceField(
        queryset=Member.objects.all(), help_text="The member whose machine the snapshot describes."
    )
    snapshot = forms.FileField(help_text="A file written by `envdash snapshot export`.")
